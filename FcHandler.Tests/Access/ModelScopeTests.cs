using System.Net;
using System.Text;
using FcHandler.Tests.Infrastructure;
using static FcHandler.Tests.Access.AccessKit;

namespace FcHandler.Tests.Access;

/// <summary>Model-scoped tokens: the proxy reads the model from the body, refuses others, and forwards the body intact.</summary>
public sealed class ModelScopeTests : IAsyncLifetime
{
    private static readonly string Token = Signed("modeller", models: ["gpt-4o-mini", "whisper-*"]);

    private FakeOpenAI _upstream = null!;
    private ProxyHost _proxy = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAI.StartAsync();
        _upstream.Handler = (context, _) => FakeResponses.JsonAsync(context, "{}");
        _proxy = await ProxyHost.StartAsync(_upstream, ServerKeyMode());
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<HttpResponseMessage> PostAsync(string path, HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Token);
        return await _proxy.Client.SendAsync(request);
    }

    [Fact]
    public async Task AllowedModelAfterLargeMessages_IsFoundAndBodyForwardedByteExact()
    {
        // "model" last, after more than the reader's first buffer, with a nested "model" that must not count.
        var json = $$"""{"messages":[{"role":"user","content":"{{new string('x', 200_000)}}","model":"o3"}],"model":"gpt-4o-mini"}""";

        using var response = await PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(json, _upstream.SingleRequest.BodyText);
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o","messages":[]}""")]
    [InlineData("""{"messages":[{"model":"gpt-4o-mini"}]}""")]
    [InlineData("""{"model":["gpt-4o-mini"]}""")]
    [InlineData("""[{"model":"gpt-4o-mini"}]""")]
    [InlineData("""{"model":"gpt-4o-mi""")]
    [InlineData("""{"stream":tru""")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[],"model":"gpt-4o"}""")] // OpenAI would run the last one
    public async Task OtherMissingOrUnreadableModel_Returns403AndForwardsNothing(string json)
    {
        using var response = await PostAsync("/v1/chat/completions", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("model_not_allowed", await ErrorCodeOf(response));
        Assert.Equal(0, _upstream.Connections);
    }

    [Fact]
    public async Task SameModelTwice_IsThatModel()
    {
        using var response = await PostAsync("/v1/chat/completions",
            new StringContent("""{"model":"gpt-4o-mini","messages":[],"model":"gpt-4o-mini"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task MultipartModelFieldTwice_TheSecondAnotherModel_Returns403()
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent("whisper-1"), "model" },
            { new ByteArrayContent(new byte[100_000]), "file", "speech.mp3" },
            { new StringContent("gpt-4o-transcribe"), "model" },
        };

        using var response = await PostAsync("/v1/audio/transcriptions", form);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Empty(_upstream.Requests);
    }

    [Theory]
    [InlineData("whisper-1", HttpStatusCode.OK)]
    [InlineData("gpt-4o-transcribe", HttpStatusCode.Forbidden)]
    public async Task MultipartModelField_IsChecked(string model, HttpStatusCode status)
    {
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(new byte[100_000]), "file", "speech.mp3" },
            { new StringContent(model), "model" },
        };

        using var response = await PostAsync("/v1/audio/transcriptions", form);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(status == HttpStatusCode.OK ? 1 : 0, _upstream.Requests.Count);
    }

    [Fact]
    public async Task LegacyEnginePath_EngineCountsAsTheModel()
    {
        using var response = await PostAsync("/v1/engines/davinci/completions", new StringContent("""{"model":"gpt-4o-mini"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, _upstream.Connections);
    }

    [Fact]
    public async Task PassThroughWithoutModel_IsAllowed()
    {
        using var request = Get("/v1/models", Token);
        using var response = await _proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

using System.Net;
using System.Text;
using FcHandler.Tests.Infrastructure;
using static FcHandler.Tests.Access.AccessKit;

namespace FcHandler.Tests.Security;

/// <summary>
/// Issue 27, item 5: a multipart body two parsers can read two ways cannot decide which model a scope, a model's
/// limit or the access line sees: refused with 400 <c>ambiguous_multipart</c>, naming what is ambiguous, and nothing
/// is forwarded.
/// </summary>
public sealed class AmbiguousMultipartTests : ProxyTest
{
    protected override IDictionary<string, string?> Settings => ServerKeyMode();

    private static string Part(string disposition, string value, string boundary = "AAA")
        => $"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n{value}\r\n";

    public static TheoryData<string, string, string> AmbiguousBodies() => new()
    {
        {
            "multipart/form-data; boundary=AAA; boundary=BBB",
            Part("form-data; name=\"model\"", "gpt-4o-mini-transcribe") + Part("form-data; name=\"model\"", "whisper-1", "BBB") + "--AAA--\r\n--BBB--\r\n",
            "more than one boundary"
        },
        {
            "multipart/form-data; boundary=AAA",
            Part("form-data; name=\"model\"; name=\"prompt\"", "gpt-4o-mini-transcribe") + "--AAA--\r\n",
            "names the part more than once"
        },
        {
            "multipart/form-data; boundary=AAA",
            Part("form-data; name=\"prompt\"; name*=UTF-8''model", "gpt-4o-mini-transcribe") + "--AAA--\r\n",
            "names the part more than once"
        },
        {
            "multipart/form-data; boundary=AAA",
            Part("form-data; name=\"model\"; filename=\"model.txt\"", "whisper-1") + Part("form-data; name=\"model\"", "gpt-4o-mini-transcribe") + "--AAA--\r\n",
            "the part named model is a file"
        },
    };

    [Theory]
    [MemberData(nameof(AmbiguousBodies))]
    public async Task AmbiguousMultipart_ModelScopedToken_Is400NamingWhatIsAmbiguous(string contentType, string body, string what)
        => await AssertRefusedAsync(contentType, body, what, Signed(models: ["gpt-4o-mini-transcribe"]));

    [Theory]
    [MemberData(nameof(AmbiguousBodies))]
    public async Task AmbiguousMultipart_UnscopedToken_Is400Too(string contentType, string body, string what)
        => await AssertRefusedAsync(contentType, body, what, StaticToken);

    [Fact]
    public async Task PlainMultipart_ModelScopedToken_IsForwarded()
    {
        Upstream.Handler = (context, _) => FakeResponses.JsonAsync(context, """{"text":"ok"}""");
        using var form = new MultipartFormDataContent
        {
            { new StringContent("gpt-4o-mini-transcribe"), "model" },
            { new ByteArrayContent([1, 2, 3]), "file", "audio.wav" },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/transcriptions") { Content = form };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Signed(models: ["gpt-4o-mini-transcribe"]));

        using var response = await Proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(Upstream.Requests);
    }

    private async Task AssertRefusedAsync(string contentType, string body, string what, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/audio/transcriptions") { Content = new ByteArrayContent(Encoding.ASCII.GetBytes(body)) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);

        using var response = await Proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"code\":\"ambiguous_multipart\"", text, StringComparison.Ordinal);
        Assert.Contains(what, text, StringComparison.Ordinal);
        Assert.DoesNotContain("whisper-1", text, StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }
}

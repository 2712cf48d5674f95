using System.Text;
using FcHandler.Limits;

namespace FcHandler.Tests.Limits;

public sealed class RequestCostTests
{
    private static HttpRequest Request(string path, string body, string contentType = "application/json")
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = path;
        context.Request.ContentType = contentType;
        context.Request.ContentLength = bytes.Length;
        context.Request.Body = new MemoryStream(bytes);
        return context.Request;
    }

    private static async Task<string> BodyAsync(HttpRequest request)
    {
        request.Body.Position = 0;
        using var reader = new StreamReader(request.Body, leaveOpen: true);
        var text = await reader.ReadToEndAsync();
        request.Body.Position = 0;
        return text;
    }

    [Fact]
    public async Task Chat_WithItsOwnCap_IsBodyBytesPlusCapTimesN()
    {
        const string body = """{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":100,"n":3}""";
        var request = Request("/v1/chat/completions", body);

        var bound = await RequestCost.ReadAsync(request, 16_384, meter: true, enforceCap: true, default);

        Assert.Equal(body.Length + 300, bound.Estimate);
        Assert.Null(bound.CapAdded);
        Assert.Equal(body, await BodyAsync(request));
    }

    [Fact]
    public async Task Chat_MaxTokensOnly_IsItsCap()
    {
        const string body = """{"model":"gpt-4o","messages":[],"max_tokens":50}""";

        var bound = await RequestCost.ReadAsync(Request("/v1/chat/completions", body), 16_384, meter: true, enforceCap: true, default);

        Assert.Equal(body.Length + 50, bound.Estimate);
        Assert.True(bound.ReportsUsage);
    }

    [Fact]
    public async Task Chat_NoCapUnderABudget_GetsTheDefaultCapInItsBody()
    {
        const string body = """ {"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""";
        var request = Request("/v1/chat/completions", body);

        var bound = await RequestCost.ReadAsync(request, 2048, meter: true, enforceCap: true, default);

        Assert.Equal("max_completion_tokens", bound.CapAdded);
        Assert.Equal(body.Length + 2048, bound.Estimate);
        var sent = await BodyAsync(request);
        Assert.Equal(""" {"max_completion_tokens":2048,"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""", sent);
        Assert.Equal(sent.Length, request.ContentLength);
    }

    [Fact]
    public async Task Chat_NoCapWithoutABudget_ReservesTheDefaultButLeavesTheBody()
    {
        const string body = """{"model":"gpt-4o","messages":[]}""";
        var request = Request("/v1/chat/completions", body);

        var bound = await RequestCost.ReadAsync(request, 2048, meter: true, enforceCap: false, default);

        Assert.Null(bound.CapAdded);
        Assert.Equal(body.Length + 2048, bound.Estimate);
        Assert.Equal(body, await BodyAsync(request));
    }

    [Fact]
    public async Task Responses_NoCap_GetsMaxOutputTokens_AndBackgroundIsNoticed()
    {
        const string body = """{"model":"o3","input":"hi","background":true}""";
        var request = Request("/v1/responses", body);

        var bound = await RequestCost.ReadAsync(request, 1000, meter: true, enforceCap: true, default);

        Assert.Equal("max_output_tokens", bound.CapAdded);
        Assert.True(bound.RunsInBackground);
        Assert.StartsWith("""{"max_output_tokens":1000,""", await BodyAsync(request), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LegacyCompletions_DefaultMaxTokensIs16_TimesBestOf()
    {
        const string body = """{"model":"gpt-3.5-turbo-instruct","prompt":"x","best_of":4,"n":2}""";
        var request = Request("/v1/completions", body);

        var bound = await RequestCost.ReadAsync(request, 16_384, meter: true, enforceCap: true, default);

        Assert.Equal(body.Length + (16 * 4), bound.Estimate);
        Assert.Null(bound.CapAdded);
    }

    [Fact]
    public async Task Embeddings_AreTheirInputOnly()
    {
        const string body = """{"model":"text-embedding-3-small","input":"hello world"}""";

        var bound = await RequestCost.ReadAsync(Request("/v1/embeddings", body), 16_384, meter: true, enforceCap: true, default);

        Assert.Equal(body.Length, bound.Estimate);
        Assert.False(bound.ReportsUsage);
    }

    [Fact]
    public async Task Images_ReserveTheDefaultPerImage()
    {
        const string body = """{"model":"gpt-image-1","prompt":"a cat","n":2}""";

        var bound = await RequestCost.ReadAsync(Request("/v1/images/generations", body), 5000, meter: true, enforceCap: true, default);

        Assert.Equal(body.Length + 10_000, bound.Estimate);
        Assert.Null(bound.CapAdded);
    }

    [Fact]
    public async Task ImageEditForm_ReservesTheDefaultTimesItsN_AndIsChargedItsBoundWithoutUsage()
    {
        var (body, contentType) = Form(("model", "gpt-image-1"), ("n", "10"), ("image", "PNGBYTES"));
        var request = Request("/v1/images/edits", body, contentType);

        var bound = await RequestCost.ReadAsync(request, 1000, meter: true, enforceCap: true, default);

        Assert.Equal(body.Length + 10_000, bound.Estimate);
        Assert.True(bound.ReportsUsage);
        Assert.Equal(body, await BodyAsync(request));
    }

    [Theory]
    [InlineData("10", "10", "is given twice")]
    [InlineData("2.0", null, "is not a whole number")]
    public async Task ImageEditForm_AmbiguousN_IsRefusedUnderLimits(string first, string? second, string problem)
    {
        var (body, contentType) = second is null ? Form(("n", first)) : Form(("n", first), ("n", second));

        var bound = await RequestCost.ReadAsync(Request("/v1/images/edits", body, contentType), 1000, meter: true, enforceCap: true, default);

        Assert.Equal(("ambiguous_request_body", "n"), (bound.Refusal?.Code, bound.Refusal?.Param));
        Assert.Contains(problem, bound.Refusal?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Speech_ReservesTheDefaultOnce_AndIsChargedItsBoundWithoutUsage()
    {
        const string body = """{"model":"tts-1","input":"hello","voice":"alloy"}""";

        var bound = await RequestCost.ReadAsync(Request("/v1/audio/speech", body), 1000, meter: true, enforceCap: true, default);

        Assert.Equal(body.Length + 1000, bound.Estimate);
        Assert.True(bound.ReportsUsage);
    }

    private static (string Body, string ContentType) Form(params (string Name, string Value)[] fields)
    {
        const string boundary = "b0undary";
        var body = new StringBuilder();
        foreach (var (name, value) in fields)
        {
            body.Append($"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
        }

        body.Append($"--{boundary}--\r\n");
        return (body.ToString(), $"multipart/form-data; boundary={boundary}");
    }

    [Fact]
    public async Task MultipartAudio_IsItsBytes()
    {
        var body = "--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--b--\r\n";

        var bound = await RequestCost.ReadAsync(Request("/v1/audio/transcriptions", body, "multipart/form-data; boundary=b"), 16_384, meter: true, enforceCap: true, default);

        Assert.Equal(body.Length, bound.Estimate);
    }

    [Fact]
    public async Task Chat_NotAnObjectUnderLimits_IsRefusedAndNeverRewritten()
    {
        const string body = """["not","an","object"]""";
        var request = Request("/v1/chat/completions", body);

        var bound = await RequestCost.ReadAsync(request, 100, meter: true, enforceCap: true, default);

        Assert.Equal("unmeterable_request_body", bound.Refusal?.Code);
        Assert.Null(bound.CapAdded);
        Assert.Equal(body, await BodyAsync(request));
    }

    [Fact]
    public async Task Chat_NotAnObjectUnmetered_IsCountedButNeverRewritten()
    {
        const string body = """["not","an","object"]""";
        var request = Request("/v1/chat/completions", body);

        var bound = await RequestCost.ReadAsync(request, 100, meter: false, enforceCap: false, default);

        Assert.Null(bound.Refusal);
        Assert.Equal(body.Length + 100, bound.Estimate);
        Assert.Equal(body, await BodyAsync(request));
    }

    // OpenAI takes the last of two duplicate keys, and a null, float or string cap could be read as no cap or as another
    // number: under limits each is refused, naming the member, and the body is left as it was.
    [Theory]
    [InlineData("""{"model":"m","messages":[],"max_tokens":10,"max_tokens":5000}""", "max_tokens")]
    [InlineData("""{"model":"m","messages":[],"max_tokens":10,"max_tokens":null}""", "max_tokens")]
    [InlineData("""{"model":"m","messages":[],"max_completion_tokens":null}""", "max_completion_tokens")]
    [InlineData("""{"model":"m","messages":[],"max_completion_tokens":10.0}""", "max_completion_tokens")]
    [InlineData("""{"model":"m","messages":[],"max_completion_tokens":"10"}""", "max_completion_tokens")]
    [InlineData("""{"model":"m","messages":[],"max_completion_tokens":-1}""", "max_completion_tokens")]
    [InlineData("""{"model":"m","messages":[],"max_tokens":10,"n":8.0}""", "n")]
    [InlineData("""{"model":"m","messages":[],"max_tokens":10,"n":1,"n":8}""", "n")]
    [InlineData("""{"model":"m","messages":[],"max_tokens":10,"stream":false,"stream":true}""", "stream")]
    [InlineData("""{"model":"m","messages":[],"max_tokens":10,"stream":"true"}""", "stream")]
    [InlineData("""{"model":"m","model":"m","messages":[],"max_tokens":10}""", "model")]
    public async Task Chat_AmbiguousMemberUnderLimits_IsRefusedNamingIt(string body, string member)
    {
        var request = Request("/v1/chat/completions", body);

        var bound = await RequestCost.ReadAsync(request, 777, meter: true, enforceCap: true, default);

        Assert.Equal("ambiguous_request_body", bound.Refusal?.Code);
        Assert.Equal(member, bound.Refusal?.Param);
        Assert.Equal(body, await BodyAsync(request));
    }

    [Theory]
    [InlineData("""{"model":"m","input":"x","max_output_tokens":5,"background":true,"background":false}""", "background")]
    [InlineData("""{"model":"m","input":"x","max_output_tokens":5,"background":1}""", "background")]
    [InlineData("""{"model":"m","input":"x","max_output_tokens":null}""", "max_output_tokens")]
    public async Task Responses_AmbiguousMemberUnderLimits_IsRefusedNamingIt(string body, string member)
    {
        var bound = await RequestCost.ReadAsync(Request("/v1/responses", body), 777, meter: true, enforceCap: true, default);

        Assert.Equal(member, bound.Refusal?.Param);
    }

    [Fact]
    public async Task Chat_NullCountsAndFlags_AreOpenAIsDefaultsAndPass()
    {
        const string body = """{"model":"m","messages":[],"max_tokens":10,"n":null,"stream":null}""";

        var bound = await RequestCost.ReadAsync(Request("/v1/chat/completions", body), 777, meter: true, enforceCap: true, default);

        Assert.Null(bound.Refusal);
        Assert.Equal(body.Length + 10, bound.Estimate);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    [InlineData("identity, deflate")]
    public async Task Generation_CompressedBodyUnderLimits_IsRefused(string encoding)
    {
        var request = Request("/v1/embeddings", """{"model":"m","input":"x"}""");
        request.Headers.ContentEncoding = encoding;

        var bound = await RequestCost.ReadAsync(request, 777, meter: true, enforceCap: true, default);

        Assert.Equal("unmeterable_request_body", bound.Refusal?.Code);
    }

    [Fact]
    public async Task Chat_NonJsonContentTypeUnderLimits_IsRefused()
    {
        var request = Request("/v1/chat/completions", """{"model":"m","messages":[]}""");
        request.ContentType = "text/plain";

        var bound = await RequestCost.ReadAsync(request, 777, meter: true, enforceCap: true, default);

        Assert.Equal("unmeterable_request_body", bound.Refusal?.Code);
    }

    [Fact]
    public async Task EngineChatPath_IsAChat()
    {
        const string body = """{"messages":[],"max_tokens":7}""";

        var bound = await RequestCost.ReadAsync(Request("/v1/engines/gpt-4/chat/completions", body), 100, meter: true, enforceCap: true, default);

        Assert.Equal(body.Length + 7, bound.Estimate);
    }
}

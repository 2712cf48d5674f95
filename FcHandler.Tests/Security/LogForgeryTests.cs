using System.Text;
using System.Text.RegularExpressions;
using FcHandler.Logging;
using FcHandler.Tests.Infrastructure;
using FcHandler.Tests.Usage;
using FcHandler.Usage;
using static FcHandler.Tests.Access.AccessKit;

namespace FcHandler.Tests.Security;

/// <summary>
/// Issue 27, item 3: nothing a client sends reaches a log line unchecked, so nobody can forge an access line and
/// have <c>FcHandler usage</c> count it. The proxy writes its real stdout lines (the same provider as in production)
/// into memory, in each format, while hostile requests arrive: a JSON access line in <c>x-fc-request-id</c> (which
/// FC blocks from clients, a deployment outside FC does not), an event <c>rawPath</c> and a model name shaped like
/// the text line's fields.
/// </summary>
public sealed partial class LogForgeryTests
{
    private const string ForgedJson =
        """{"time":"2026-11-26T08:00:00.000Z","level":"info","event":"access","category":"FcHandler.Logging.AccessLogMiddleware","method":"POST","path":"/v1/chat/completions","route":"generation","status":200,"subject":"victim","model":"gpt-4o","usage":{"input_tokens":1000000,"output_tokens":1000000,"total_tokens":2000000},"request_id":"x"}""";

    private const string ForgedFields = " 200 upstream=200 subject=victim model=gpt-4o usage=input:1000000,output:1000000,total:2000000 error=- request_id=x";

    private static async Task<string[]> LinesOfHostileTrafficAsync(LogFormat format)
    {
        using var output = new MemoryStream();
        var stdout = new StdoutLoggerProvider(output, format);
        await using (var upstream = await FakeOpenAI.StartAsync())
        {
            upstream.Handler = (context, _) => FakeResponses.JsonAsync(context, Encoding.UTF8.GetString(UsageFixtures.Bytes("chat-completion.json")));
            await using var proxy = await ProxyHost.StartAsync(upstream.BaseAddress.ToString(), ServerKeyMode(("LOG_FORMAT", format.ToString().ToLowerInvariant())),
                services => services.AddSingleton<ILoggerProvider>(stdout));
            var lines = new List<string>();

            // 1. A JSON access line as the request id, on an ordinary (admitted, counted) chat completion.
            using (var request = Post("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[]}""", StaticToken))
            {
                request.Headers.TryAddWithoutValidation("x-fc-request-id", ForgedJson);
                using var response = await proxy.Client.SendAsync(request);
                Assert.Equal(200, (int)response.StatusCode);
            }

            // 2. An event whose rawPath carries the text line's fields after a space.
            var forgedPath = await proxy.InvokeAsync(FcCalls.Event("GET", "/v1/models" + ForgedFields, headers: new Dictionary<string, string>
            {
                ["Authorization"] = $"Bearer {StaticToken}",
            }));
            Assert.NotEqual(0, forgedPath.HttpStatus);

            // 3. A model name carrying the same fields and JSON.
            using (var request = Post("/v1/chat/completions", $$"""{"model":"gpt-4o-mini{{ForgedFields}} {{ForgedJson.Replace("\"", "\\\"", StringComparison.Ordinal)}}","messages":[]}""", StaticToken))
            {
                using var response = await proxy.Client.SendAsync(request);
            }

            await proxy.Logs.WaitForLineAsync(line => line.Contains("[1] POST /v1/chat/completions", StringComparison.Ordinal) && line.Contains("gpt-4o-mini_", StringComparison.Ordinal));
        }

        stdout.Dispose();
        return Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task TextFormat_HostileValues_OneLinePerRequestAndNoForgedField()
    {
        var lines = await LinesOfHostileTrafficAsync(LogFormat.Text);

        Assert.All(lines, line => Assert.Matches(LineShape(), line));
        var access = lines.Where(line => line.Contains(" AccessLogMiddleware[1] ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, access.Length); // the chat completion, the event's request, the odd model's request
        Assert.All(access, line => Assert.Single(line.Split(' '), field => field.StartsWith("subject=", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, line => line.Split(' ').Contains("subject=victim"));
    }

    [Fact]
    public async Task JsonFormat_HostileValues_UsageCountsOnlyTheRealRequests()
    {
        var lines = await LinesOfHostileTrafficAsync(LogFormat.Json);

        using var report = new StringWriter();
        using var errors = new StringWriter();
        var exit = await UsageCommand.RunAsync(["--csv"], new StringReader(string.Join('\n', lines)), report, errors);

        Assert.Equal(0, exit);
        var rows = report.ToString().ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        Assert.Equal(2, rows.Length); // the two real completions: the plain one, and the one with the odd model (quoted)
        Assert.All(rows, row => Assert.Matches(@"^\d{4}-\d\d-\d\d,static-1,", row)); // the token's subject, never "victim"
        Assert.All(rows, row => Assert.EndsWith(",1,2006,1920,300,0,2306,0", row, StringComparison.Ordinal)); // the upstream's usage, not the forged 2M
        Assert.DoesNotContain(lines, line => line.StartsWith("FC ", StringComparison.Ordinal) && line.Contains('{', StringComparison.Ordinal));
    }

    // A text line: the proxy's header then a message, or one of FC's bare markers with an FC-shaped id.
    [GeneratedRegex(@"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trce|dbug|info|warn|fail|crit) \w+\[\d+\] .*|FC (Invoke|Initialize) (Start|End) RequestId: [A-Za-z0-9_.:-]+)$")]
    private static partial Regex LineShape();
}

using FcHandler.Usage;

namespace FcHandler.Tests.Usage;

/// <summary>
/// <c>FcHandler usage</c> over a fixture log (Fixtures/access-log.txt): the proxy's JSON lines as written, one as
/// <c>s logs</c> prints it (ANSI colours, a time and an instance id in front), one inside an export's <c>message</c>,
/// and lines that are not access lines of generation requests (FC markers, other events, a pass-through request, a
/// text line, a truncated line).
/// </summary>
public sealed class UsageCommandTests
{
    private static async Task<(int Exit, string Output, string Errors)> RunAsync(string input, params string[] args)
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var exit = await UsageCommand.RunAsync(args, new StringReader(input), output, errors);
        return (exit, output.ToString(), errors.ToString());
    }

    private static string Log => System.Text.Encoding.UTF8.GetString(UsageFixtures.Bytes("access-log.txt"));

    [Fact]
    public async Task FixtureLog_TotalsPerDaySubjectAndModel()
    {
        var (exit, output, errors) = await RunAsync(Log, "--csv");

        Assert.Equal(0, exit);
        Assert.Equal(
            """
            day,subject,model,requests,input_tokens,cached_tokens,output_tokens,reasoning_tokens,total_tokens,seconds
            2026-11-26,-,whisper-1,1,0,0,0,0,0,2
            2026-11-26,alice,gpt-4o-mini,2,2028,1920,1012,0,3040,0
            2026-11-26,alice,o4-mini,1,0,0,0,0,0,0
            2026-11-26,bob,o4-mini,1,1250,1024,466,384,1716,0
            2026-11-26,bob,text-embedding-3-small,1,8,0,0,0,8,0

            """.ReplaceLineEndings("\n"),
            output.ReplaceLineEndings("\n"));
        Assert.Contains("read 14 lines: 7 access lines, 6 of generation requests, 7 other lines skipped", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RealtimeSession_WithUsage_IsCountedAndAClientSecretCallIsNot()
    {
        const string Lines =
            """
            {"time":"2026-11-26T11:00:00.000Z","level":"info","event":"web_socket_access","category":"FcHandler.Logging.AccessLogMiddleware","method":"GET","path":"/v1/realtime","route":"realtime","status":101,"duration_ms":60000.0,"bytes_in":10,"bytes_out":20,"closed_by":"client","subject":"carol","model":"gpt-realtime","usage":{"input_tokens":132,"output_tokens":121,"cached_tokens":64,"total_tokens":253},"request_id":"r1"}
            {"time":"2026-11-26T10:59:00.000Z","level":"info","event":"access","category":"FcHandler.Logging.AccessLogMiddleware","method":"POST","path":"/v1/realtime/client_secrets","route":"realtime","status":200,"upstream_status":200,"total_ms":90.0,"bytes_in":10,"bytes_out":20,"subject":"carol","model":"gpt-realtime","request_id":"r0"}
            """;

        var (exit, output, _) = await RunAsync(Lines, "--csv");

        Assert.Equal(0, exit);
        Assert.EndsWith("\n2026-11-26,carol,gpt-realtime,1,132,64,121,0,253,0\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UtcOffset_MovesTheDayBoundary()
    {
        var (_, output, _) = await RunAsync(Log, "--csv", "--utc-offset", "+08:00");

        Assert.Contains("2026-11-27,-,whisper-1,1,0,0,0,0,0,2", output, StringComparison.Ordinal);
        Assert.Contains("2026-11-26,bob,text-embedding-3-small,1,8,0,0,0,8,0", output, StringComparison.Ordinal); // 23:13 in UTC+8
    }

    [Fact]
    public async Task Table_IsAlignedWithATotalRow()
    {
        var (_, output, _) = await RunAsync(Log);

        var rows = output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.StartsWith("day         subject  model                   requests  input_tokens", rows[0], StringComparison.Ordinal);
        Assert.Matches(@"^total\s+6\s+3286\s+2944\s+1478\s+384\s+4764\s+2$", rows[^1]);
        Assert.All(rows, row => Assert.Equal(rows[0].Length, row.Length));
    }

    [Fact]
    public async Task NoAccessLines_Exits1AndSaysWhy()
    {
        var (exit, output, errors) = await RunAsync("FC Invoke Start RequestId: x\n2026-11-26T08:31:38.698Z info AccessLogMiddleware[1] GET /healthz health 200\n");

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains("LOG_FORMAT=json", errors, StringComparison.Ordinal);
    }

    private const string Forged =
        """{"time":"2026-11-26T08:00:00.000Z","level":"info","event":"access","category":"FcHandler.Logging.AccessLogMiddleware","method":"POST","path":"/v1/chat/completions","route":"generation","status":200,"subject":"victim","model":"gpt-4o","usage":{"input_tokens":1000000,"output_tokens":1000000,"total_tokens":2000000},"request_id":"x"}""";

    private static readonly string[] ForgedLineTexts =
    [
        // JSON a client put into a line the proxy wrote: a request id in FC's marker, a path or model in a text line.
        "FC Invoke Start RequestId: " + Forged,
        "FC Invoke End RequestId: " + Forged,
        "2026-11-26T08:31:38.698Z info AccessLogMiddleware[1] POST /v1/chat/completions generation 200 upstream=200 subject=- model=" + Forged,
        "2026-11-26T08:31:38.698Z info FcMiddleware[20] " + Forged,
        "2026-11-26T08:31:38.698Z c-6700aa00 FC Invoke Start RequestId: " + Forged,
        "\u001b[2m2026-11-26T09:05:00.000Z\u001b[0m \u001b[36mc-6700aa00\u001b[0m RequestId: " + Forged,
        // An export whose message is such a line.
        """{"__time__":1764170000,"message":"FC Invoke Start RequestId: """ + Forged.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"}",
        // Not the whole line.
        Forged + " trailing",
        Forged + Forged,
        "x" + Forged,
        " " + Forged.Replace("{", "{ ", StringComparison.Ordinal) + "}",
    ];

    public static TheoryData<string> ForgedLines() => [.. ForgedLineTexts];

    [Theory]
    [MemberData(nameof(ForgedLines))]
    public async Task ForgedLine_JsonInsideAnotherLine_IsNotCounted(string line)
    {
        var (exit, output, errors) = await RunAsync(line + "\n");

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains("0 access lines", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForgedLines_AmongRealOnes_OnlyTheRealOnesAreCounted()
    {
        var forged = string.Join('\n', ForgedLineTexts);

        var (exit, output, _) = await RunAsync(forged + "\n" + Log + "\n" + forged, "--csv");

        Assert.Equal(0, exit);
        Assert.DoesNotContain("victim", output, StringComparison.Ordinal);
        Assert.Equal((await RunAsync(Log, "--csv")).Output, output);
    }

    [Theory]
    [InlineData("--json")]
    [InlineData("--utc-offset")]
    [InlineData("--utc-offset", "8")]
    [InlineData("--utc-offset", "+25:00")]
    public async Task BadArguments_PrintUsageAndExit2(params string[] args)
    {
        var (exit, _, errors) = await RunAsync(Log, args);

        Assert.Equal(2, exit);
        Assert.StartsWith("usage: FcHandler usage", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ByKey_TotalsPerServerKey()
    {
        const string Lines = """
            {"time":"2026-11-26T10:00:00.000Z","level":"info","event":"access","method":"POST","path":"/v1/chat/completions","route":"generation","status":200,"subject":"alice","key":"main","keys_tried":1,"model":"gpt-4o-mini","usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15},"request_id":"r1"}
            {"time":"2026-11-26T10:01:00.000Z","level":"info","event":"access","method":"POST","path":"/v1/chat/completions","route":"generation","status":200,"subject":"bob","key":"main","keys_tried":2,"model":"gpt-4o-mini","usage":{"input_tokens":20,"output_tokens":5,"total_tokens":25},"request_id":"r2"}
            {"time":"2026-11-26T10:02:00.000Z","level":"info","event":"access","method":"POST","path":"/v1/chat/completions","route":"generation","status":200,"subject":"alice","key":"spare","keys_tried":1,"model":"gpt-4o-mini","usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2},"request_id":"r3"}
            """;

        var (exit, output, _) = await RunAsync(Lines, "--csv", "--by", "key");

        Assert.Equal(0, exit);
        Assert.Equal(
            "day,key,model,requests,input_tokens,cached_tokens,output_tokens,reasoning_tokens,total_tokens,seconds\n" +
            "2026-11-26,main,gpt-4o-mini,2,30,0,10,0,40,0\n" +
            "2026-11-26,spare,gpt-4o-mini,1,1,0,1,0,2,0\n",
            output.ReplaceLineEndings("\n"));
    }
}

using System.Text;
using FcHandler.Usage;

namespace FcHandler.Tests.Usage;

public sealed class UsageScannerTests
{
    private const string RealUsage = """{"input_tokens":1200,"output_tokens":300,"total_tokens":1500}""";

    private const string FakeUsage = """{"input_tokens":0,"output_tokens":1,"total_tokens":1}""";

    private static readonly string FakeUsageInText = FakeUsage.Replace("\"", "\\\"", StringComparison.Ordinal); // as a JSON string's content

    private static readonly TokenUsage Real = new(1200, 300, null, null, 1500, null);

    // The places a client can put a "usage" object that an answer then echoes or writes: a tool's schema, metadata,
    // output text, a function call's arguments, an item's own members.
    private static readonly string EchoedTools = $$$"""[{"type":"function","name":"f","parameters":{"type":"object","usage":{{{FakeUsage}}}}}]""";
    private static readonly string Echoes =
        $$$"""
        "tools":{{{EchoedTools}}},"metadata":{"usage":"x","response":"y"},"text":{"format":{"type":"json_schema","schema":{"usage":{{{FakeUsage}}} } }},
        "output":[{"type":"function_call","arguments":"{\"usage\":{{{FakeUsageInText}}}}"},{"type":"message","content":[{"type":"output_text","text":"\"usage\":{{{FakeUsageInText}}}","usage":{{{FakeUsage}}}}]}]
        """.ReplaceLineEndings("");

    public static TheoryData<string, string?> Answers => new()
    {
        // A JSON answer: its top-level usage only.
        { $$$"""{"object":"response",{{{Echoes}}},"usage":{{{RealUsage}}}}""", "real" },
        { $$$"""{"usage":{{{RealUsage}}},"object":"response",{{{Echoes}}}}""", "real" },
        { $$$"""{"object":"response","status":"queued","background":true,{{{Echoes}}},"usage":null}""", null },
        { $$$"""{"object":"response",{{{Echoes}}}}""", null },
        { $$$"""{"id":"chatcmpl-1","tools":{{{EchoedTools}}},"choices":[{"message":{"content":"hi","usage":{{{FakeUsage}}}}}]}""", null },
        // A chat stream: the chunk whose top-level usage is set.
        { $$$"""data: {"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\"usage\":1}"}}]}}],"usage":null}{{{"\n\n"}}}data: {"choices":[],"usage":{{{RealUsage}}}}{{{"\n\n"}}}data: [DONE]{{{"\n\n"}}}""", "real" },
        { $$$"""data: {"choices":[{"delta":{"content":"x"},"usage":{{{FakeUsage}}}}],"usage":null}{{{"\n\n"}}}data: [DONE]{{{"\n\n"}}}""", null },
        // A Responses stream: response.usage of the event that ends the response, nothing from the others.
        { ResponsesStream("response.completed", $$$"""{"type":"response.completed","sequence_number":9,"response":{"object":"response",{{{Echoes}}},"usage":{{{RealUsage}}}}}"""), "real" },
        { ResponsesStream("response.incomplete", $$$"""{"type":"response.incomplete","response":{{{{Echoes}}},"usage":{{{RealUsage}}}}}"""), "real" },
        { ResponsesStream("response.failed", $$$"""{"response":{{{{Echoes}}},"usage":{{{RealUsage}}}},"type":"response.failed"}"""), "real" },
        { ResponsesStream(null, null), null }, // cut after response.created: its echoes are never the usage
        { ResponsesStream("response.completed", $$$"""{"type":"response.completed","response":{{{{Echoes}}},"usage":{{{RealUsage}}}"""), "real" }, // cut after its usage: OpenAI's count
        { ResponsesStream("response.output_item.done", $$$"""{"type":"response.output_item.done","item":{"type":"message","usage":{{{FakeUsage}}}},"response":{"usage":{{{FakeUsage}}}}}"""), null },
        { ResponsesStream("response.completed", $$$"""{"type":"response.completed","response":{"output":[{"response":{"usage":{{{FakeUsage}}}}}],"type":"x","usage":null}}"""), null },
        { $$$"""data: {"type":"response.completed","metadata":{"type":"response.completed"},"item":{"response":{"usage":{{{FakeUsage}}} } }}{{{"\n\n"}}}""", null },
        { $$$"""data: {"type":"response.complet\u0065d","response":{"usage":{{{FakeUsage}}}}}{{{"\n\n"}}}""", null }, // OpenAI escapes no type
        // A transcription stream's transcript.text.done: its top-level usage.
        { $$$"""data: {"type":"transcript.text.delta","delta":"\"usage\":{}"}{{{"\r\n\r\n"}}}data: {"type":"transcript.text.done","text":"usage","usage":{{{RealUsage}}}}{{{"\r\n\r\n"}}}""", "real" },
        // An array root (never OpenAI's answer) has no usage place.
        { $$$"""[{"usage":{{{FakeUsage}}}}]""", null },
    };

    public static TheoryData<string> Ambiguous => new()
    {
        $$$"""{"usage":{{{RealUsage}}},"usage":{{{FakeUsage}}}}""",
        $$$"""{"usage":{{{FakeUsage}}},"object":"x","usage":{{{RealUsage}}}}""",
        $$$"""{"usage":null,"usage":{{{FakeUsage}}}}""",
        """{"usage":{"total_tokens":1500,"total_tokens":1}}""",
        $$$"""data: {"type":"response.completed","response":{"usage":{{{RealUsage}}},"usage":{{{FakeUsage}}}}}{{{"\n\n"}}}""",
        $$$"""data: {"type":"response.completed","response":{"usage":{{{RealUsage}}}},"response":{"usage":{{{FakeUsage}}}}}{{{"\n\n"}}}""",
        $$$"""data: {"type":"response.completed","type":"response.created","response":{"usage":{{{RealUsage}}}}}{{{"\n\n"}}}""",
        $$$"""data: {"type":"response.completed","usage":{{{FakeUsage}}},"response":{"usage":{{{RealUsage}}}}}{{{"\n\n"}}}""",
    };

    private static string ResponsesStream(string? lastEventType, string? lastEvent)
    {
        var stream = $$$"""
            event: response.created
            data: {"type":"response.created","sequence_number":0,"response":{"object":"response","status":"in_progress",{{{Echoes}}},"usage":null}}

            event: response.output_text.delta
            data: {"type":"response.output_text.delta","delta":"{\"usage\":{\"total_tokens\":1}}"}


            """.ReplaceLineEndings("\n");
        return lastEvent is null ? stream : $"{stream}event: {lastEventType}\ndata: {lastEvent}\n\n";
    }

    private static UsagePlaces PlacesOf(string fixture) => fixture.StartsWith("realtime-", StringComparison.Ordinal) ? UsagePlaces.RealtimeEvents : UsagePlaces.Answers;

    /// <summary>What the scanner reads, the same whether it is told the body is an event stream (and passes over events with no usage object) or not.</summary>
    private static (TokenUsage? Usage, bool Unreadable) Read(UsagePlaces places, params ReadOnlySpan<byte[]> writes)
    {
        var scanner = new UsageScanner(places);
        var eventStream = new UsageScanner(places, eventStream: true);
        foreach (var write in writes)
        {
            scanner.Observe(write);
            eventStream.Observe(write);
        }

        scanner.Complete();
        eventStream.Complete();
        Assert.Equal((scanner.Usage, scanner.Unreadable), (eventStream.Usage, eventStream.Unreadable));
        return (scanner.Usage, scanner.Unreadable);
    }

    private static TokenUsage? Scan(UsagePlaces places, params ReadOnlySpan<byte[]> writes) => Read(places, writes).Usage;

    private static TokenUsage? Scan(params ReadOnlySpan<byte[]> writes) => Scan(UsagePlaces.Answers, writes);

    /// <summary>Asserts the same outcome for the body in one write, split in two anywhere, and one byte at a time.</summary>
    private static void AssertEverySplit(UsagePlaces places, byte[] body, TokenUsage? usage, bool unreadable)
    {
        Assert.Equal((usage, unreadable), Read(places, body));
        for (var split = 0; split <= body.Length; split++)
        {
            var read = Read(places, body[..split], body[split..]);
            Assert.True(read == (usage, unreadable), $"split at {split}: expected {usage}, got {read}");
        }

        Assert.Equal((usage, unreadable), Read(places, [.. body.Select(b => new[] { b })]));
    }

    [Theory]
    [MemberData(nameof(UsageFixtures.All), MemberType = typeof(UsageFixtures))]
    public void Fixture_InOneWrite_YieldsItsUsage(string fixture)
        => Assert.Equal(UsageFixtures.Expected[fixture], Scan(PlacesOf(fixture), UsageFixtures.Bytes(fixture)));

    [Theory]
    [MemberData(nameof(UsageFixtures.All), MemberType = typeof(UsageFixtures))]
    public void Fixture_SplitAtEveryByte_YieldsTheSameUsage(string fixture)
    {
        var body = UsageFixtures.Bytes(fixture);
        var expected = UsageFixtures.Expected[fixture];

        for (var split = 0; split <= body.Length; split++)
        {
            var usage = Scan(PlacesOf(fixture), body[..split], body[split..]);
            Assert.True(expected == usage, $"split at {split}: expected {expected}, got {usage}");
        }
    }

    [Theory]
    [MemberData(nameof(UsageFixtures.All), MemberType = typeof(UsageFixtures))]
    public void Fixture_OneByteAtATime_YieldsTheSameUsage(string fixture)
    {
        var body = UsageFixtures.Bytes(fixture);

        Assert.Equal(UsageFixtures.Expected[fixture], Scan(PlacesOf(fixture), [.. body.Select(b => new[] { b })]));
    }

    [Theory]
    [MemberData(nameof(UsageFixtures.WithUsage), MemberType = typeof(UsageFixtures))]
    public void Fixture_SplitInThreeAroundTheUsage_YieldsTheSameUsage(string fixture)
    {
        // Every pair of cuts inside and around the usage object, where the state machine changes state.
        var body = UsageFixtures.Bytes(fixture);
        var key = body.AsSpan().LastIndexOf("\"usage\""u8);
        var from = Math.Max(0, key - 3);
        var to = Math.Min(body.Length, key + 400);

        for (var first = from; first <= to; first++)
        {
            for (var second = first; second <= to; second += 7)
            {
                Assert.Equal(UsageFixtures.Expected[fixture], Scan(PlacesOf(fixture), body[..first], body[first..second], body[second..]));
            }
        }
    }

    [Fact]
    public void RealtimeResponseDone_ReadAsAnHttpAnswer_YieldsNothing()
        => Assert.Null(Scan(UsageFixtures.Bytes("realtime-response-done.json")));

    [Theory]
    [MemberData(nameof(Answers))]
    public void Answer_UsageOnlyWhereOpenAIPutsIt_IsTheOneRead(string answer, string? expected)
        => AssertEverySplit(UsagePlaces.Answers, Encoding.UTF8.GetBytes(answer), expected is null ? null : Real, unreadable: false);

    [Theory]
    [MemberData(nameof(Ambiguous))]
    public void UsagePlace_NamedTwice_IsUnreadable(string answer)
        => AssertEverySplit(UsagePlaces.Answers, Encoding.UTF8.GetBytes(answer), null, unreadable: true);

    [Fact]
    public void Stream_UnreadableEventThenAClearOne_StaysUnreadable()
    {
        var body = Encoding.UTF8.GetBytes($$$"""data: {"usage":{{{FakeUsage}}},"usage":{{{FakeUsage}}}}{{{"\n\n"}}}data: {"usage":{{{RealUsage}}}}{{{"\n\n"}}}""");

        Assert.Equal((null, true), Read(UsagePlaces.Answers, body));
    }

    [Theory]
    [InlineData("""{"type":"response.done","response":{"metadata":{"usage":{"total_tokens":1}},"usage":{"input_tokens":1200,"output_tokens":300,"total_tokens":1500}}}""", true)]
    [InlineData("""{"type":"conversation.item.created","item":{"metadata":{"response.done":"x"},"usage":{"total_tokens":1}}}""", false)]
    [InlineData("""{"type":"conversation.item.input_audio_transcription.completed","usage":{"input_tokens":1200,"output_tokens":300,"total_tokens":1500}}""", false)]
    [InlineData("""{"type":"response.created","response":{"usage":{"input_tokens":1200,"output_tokens":300,"total_tokens":1500}}}""", false)]
    [InlineData("""{"type":"response.completed","response":{"usage":{"input_tokens":1200,"output_tokens":300,"total_tokens":1500}}}""", false)]
    public void RealtimeEvent_OnlyResponseDoneResponseUsage_IsRead(string message, bool counts)
        => AssertEverySplit(UsagePlaces.RealtimeEvents, Encoding.UTF8.GetBytes(message), counts ? Real : null, unreadable: false);

    [Fact]
    public void UsageObjectLargerThanTheLimit_AtItsPlace_IsUnreadableAndReleased()
    {
        var filler = new string('x', UsageScanner.MaxUsageBytes);
        var body = Encoding.UTF8.GetBytes($$$"""{"usage":{"note":"{{{filler}}}","prompt_tokens":5}}""");

        Assert.Equal((null, true), Read(UsagePlaces.Answers, body[..20], body[20..]));
        Assert.Equal((null, true), Read(UsagePlaces.Answers, body));
    }

    [Theory]
    [InlineData("""{"content":"\"usage\":{\"prompt_tokens\":9}"}""")]
    [InlineData("""{"say \"usage":{"prompt_tokens":9}}""")] // a key that only ends in "usage
    [InlineData("""{"tools":[{"usage":{"type":"object"}}],"usage":null}""")]
    [InlineData("""{"usage":{"type":"object","properties":{}}}""")] // at its place, but no count in it
    public void KeyThatIsNotTheUsage_IsIgnored(string json)
        => AssertEverySplit(UsagePlaces.Answers, Encoding.UTF8.GetBytes(json), null, unreadable: false);
}

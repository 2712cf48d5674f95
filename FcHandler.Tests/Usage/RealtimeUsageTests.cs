using System.Text;
using FcHandler.Proxy.WebSockets;
using FcHandler.Usage;

namespace FcHandler.Tests.Usage;

/// <summary>
/// A Realtime session's usage, read from the upstream's response.done events as their frames pass the relay's frame
/// tracker: fragmented, split between writes anywhere, with control frames in between, other events left alone.
/// </summary>
public sealed class RealtimeUsageTests
{
    private const string ResponseDone =
        """{"type":"response.done","event_id":"event_3","response":{"object":"realtime.response","id":"resp_1","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"usage is fine"}]}],"usage":{"total_tokens":253,"input_tokens":132,"output_tokens":121,"input_token_details":{"text_tokens":119,"audio_tokens":13,"cached_tokens":64},"output_token_details":{"text_tokens":30,"audio_tokens":91}}}}""";

    private const string Transcription =
        """{"type":"conversation.item.input_audio_transcription.completed","event_id":"event_4","item_id":"item_1","content_index":0,"transcript":"hi","usage":{"type":"tokens","total_tokens":22,"input_tokens":13,"output_tokens":9}}""";

    private static readonly TokenUsage Expected = new(132, 121, 64, null, 253, null);

    // A server frame (unmasked): FIN, opcode, length (7-bit or 16-bit), payload.
    private static byte[] Frame(int opcode, bool final, byte[] payload)
    {
        var header = payload.Length < 126
            ? new byte[] { (byte)((final ? 0x80 : 0) | opcode), (byte)payload.Length }
            : [(byte)((final ? 0x80 : 0) | opcode), 126, (byte)(payload.Length >> 8), (byte)payload.Length];
        return [.. header, .. payload];
    }

    private static byte[] Text(string text) => Frame(0x1, true, Encoding.UTF8.GetBytes(text));

    /// <summary>One message in three frames (text, continuation, continuation), a ping between the second and third.</summary>
    private static byte[] Fragmented(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var third = bytes.Length / 3;
        return [.. Frame(0x1, false, bytes[..third]), .. Frame(0x0, false, bytes[third..(2 * third)]), .. Frame(0x9, true, [1, 2]),
            .. Frame(0x0, true, bytes[(2 * third)..])];
    }

    private static TokenUsage? Track(byte[] stream, int split)
    {
        var usage = new RealtimeUsage();
        var tracker = new FrameTracker(usage);
        var followed = tracker.Advance(stream.AsSpan(0, split), stopAtBoundary: false);
        followed += tracker.Advance(stream.AsSpan(split), stopAtBoundary: false);
        Assert.Equal(stream.Length, followed);
        Assert.True(tracker.AtBoundary);
        return usage.Total;
    }

    [Fact]
    public void ResponseDone_SplitBetweenWritesAnywhere_ReportsItsUsage()
    {
        var stream = Text(ResponseDone);

        for (var split = 0; split <= stream.Length; split++)
        {
            Assert.Equal(Expected, Track(stream, split));
        }
    }

    [Fact]
    public void ResponseDone_FragmentedWithAPingBetween_ReportsItsUsage()
    {
        var stream = Fragmented(ResponseDone);

        for (var split = 0; split <= stream.Length; split++)
        {
            Assert.Equal(Expected, Track(stream, split));
        }
    }

    [Fact]
    public void TwoResponses_AndOtherEvents_SumOnlyTheResponses()
    {
        byte[] stream = [.. Text("""{"type":"session.created","event_id":"e1"}"""), .. Text(ResponseDone), .. Text(Transcription),
            .. Frame(0x2, true, Encoding.UTF8.GetBytes(ResponseDone)), .. Fragmented(ResponseDone)];

        Assert.Equal(new TokenUsage(264, 242, 128, null, 506, null), Track(stream, stream.Length / 2));
    }

    [Fact]
    public void Session_WithoutResponseDone_ReportsNone()
    {
        byte[] stream = [.. Text(Transcription), .. Text("""{"type":"response.output_text.delta","delta":"usage"}""")];

        Assert.Null(Track(stream, 7));
    }
}

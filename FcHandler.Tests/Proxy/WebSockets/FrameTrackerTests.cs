using FcHandler.Proxy.WebSockets;

namespace FcHandler.Tests.Proxy.WebSockets;

public sealed class FrameTrackerTests
{
    // Every length encoding (7-bit, 16-bit, 64-bit), empty payloads, control frames between fragments, both directions.
    private static byte[][] Stream(bool masked) =>
    [
        Frames.Text("hello", masked),
        Frames.Build(Frames.TextOpcode, new byte[125], masked, fin: false),
        Frames.Build(Frames.Ping, [], masked),
        Frames.Build(0x0, new byte[126], masked), // continuation
        Frames.Build(Frames.Binary, new byte[65_535], masked),
        Frames.Build(Frames.Binary, new byte[65_536], masked),
        Frames.Build(Frames.Binary, [], masked),
        Frames.CloseWith(1000, "done", masked),
    ];

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(7, true)]
    [InlineData(13, false)]
    [InlineData(64 * 1024, true)]
    public void Advance_ChunksOfAnySize_StopsAtEveryFrameEnd(int chunkSize, bool masked)
    {
        var frames = Stream(masked);
        var bytes = frames.SelectMany(f => f).ToArray();
        var tracker = new FrameTracker();
        var ends = new List<int>();

        for (var offset = 0; offset < bytes.Length;)
        {
            var chunk = bytes.AsSpan(offset, Math.Min(chunkSize, bytes.Length - offset));
            while (!chunk.IsEmpty)
            {
                // Between frames, stopping would follow nothing: start the next frame with its first byte.
                var followed = tracker.AtBoundary ? tracker.Advance(chunk[..1], stopAtBoundary: false) : tracker.Advance(chunk, stopAtBoundary: true);
                offset += followed;
                chunk = chunk[followed..];
                if (tracker.AtBoundary)
                {
                    ends.Add(offset);
                }
            }
        }

        var expected = frames.Select((_, i) => frames.Take(i + 1).Sum(f => f.Length));
        Assert.Equal(expected, ends);
        Assert.Equal(1000, tracker.CloseCode);
    }

    [Fact]
    public void Advance_MaskedCloseSplitInsideItsCode_ReadsTheCode()
    {
        var close = Frames.CloseWith(4001, "session expired", masked: true);
        var tracker = new FrameTracker();

        tracker.Advance(close.AsSpan(0, 7), stopAtBoundary: false); // the header, the mask key and one byte of the code
        Assert.Equal(0, tracker.CloseCode);
        tracker.Advance(close.AsSpan(7), stopAtBoundary: false);

        Assert.Equal(4001, tracker.CloseCode);
        Assert.True(tracker.AtBoundary);
    }

    [Fact]
    public void Advance_CloseWithoutCode_Is1005()
    {
        var tracker = new FrameTracker();

        tracker.Advance(Frames.Build(Frames.Close, [], masked: false), stopAtBoundary: false);

        Assert.Equal(1005, tracker.CloseCode);
    }

    [Fact]
    public void Advance_SecondClose_KeepsTheFirstCode()
    {
        var tracker = new FrameTracker();

        tracker.Advance([.. Frames.CloseWith(1001, "", masked: false), .. Frames.CloseWith(1000, "", masked: false)], stopAtBoundary: false);

        Assert.Equal(1001, tracker.CloseCode);
    }

    [Fact]
    public void Advance_StopAtBoundaryWhileBetweenFrames_FollowsNothing()
    {
        var tracker = new FrameTracker();

        Assert.Equal(0, tracker.Advance(Frames.Text("x", masked: false), stopAtBoundary: true));
        Assert.True(tracker.AtBoundary);
    }

    [Fact]
    public void Advance_LengthOverTwoToThe63_StopsFollowing()
    {
        var tracker = new FrameTracker();
        byte[] notWebSocket = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3];

        Assert.Equal(notWebSocket.Length, tracker.Advance(notWebSocket, stopAtBoundary: false));
        Assert.True(tracker.Lost);
        Assert.False(tracker.AtBoundary);
    }
}

using System.Text;
using FcHandler.Usage;

namespace FcHandler.Tests.Usage;

public sealed class UsageChunkFilterTests
{
    private static readonly byte[] Stream = UsageFixtures.Bytes("chat-stream-include-usage.sse");

    // The stream as the client would have had it without include_usage: every event but the usage chunk.
    private static readonly string Expected = string.Concat(
        Encoding.UTF8.GetString(Stream).Split("\n\n").Where(e => e.Length > 0 && !e.Contains("\"choices\":[]", StringComparison.Ordinal)).Select(e => e + "\n\n"));

    private static async Task<(string Received, int Written, bool Removed)> FilterAsync(params byte[][] writes)
    {
        using var destination = new MemoryStream();
        var filter = new UsageChunkFilter();
        var written = 0;
        foreach (var write in writes)
        {
            written += await filter.WriteAsync(destination, write, CancellationToken.None);
        }

        written += await filter.FlushAsync(destination, CancellationToken.None);
        return (Encoding.UTF8.GetString(destination.ToArray()), written, filter.RemovedUsageChunk);
    }

    [Fact]
    public async Task ChatStream_SplitAtEveryByte_LosesOnlyTheUsageChunk()
    {
        Assert.DoesNotContain("\"usage\":{", Expected, StringComparison.Ordinal);
        for (var split = 0; split <= Stream.Length; split++)
        {
            var (received, written, removed) = await FilterAsync(Stream[..split], Stream[split..]);

            Assert.Equal(Expected, received);
            Assert.Equal(Encoding.UTF8.GetByteCount(Expected), written);
            Assert.True(removed);
        }
    }

    [Fact]
    public async Task ChatStreamWithCrlfLineEnds_SplitAtEveryByte_LosesOnlyTheUsageChunk()
    {
        var crlf = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Stream).Replace("\n", "\r\n", StringComparison.Ordinal));
        var expected = Expected.Replace("\n", "\r\n", StringComparison.Ordinal);
        for (var split = 0; split <= crlf.Length; split++)
        {
            var (received, _, removed) = await FilterAsync(crlf[..split], crlf[split..]);

            Assert.Equal(expected, received);
            Assert.True(removed);
        }
    }

    [Fact]
    public async Task WholeEvents_ArePassedOnInTheWriteThatCompletesThem()
    {
        using var destination = new MemoryStream();
        var filter = new UsageChunkFilter();
        var firstEventEnd = Stream.AsSpan().IndexOf("\n\n"u8) + 2;

        await filter.WriteAsync(destination, Stream.AsMemory(0, firstEventEnd + 10), CancellationToken.None);

        Assert.Equal(firstEventEnd, destination.Length); // the first event at once, the start of the second held
        filter.Release();
    }

    [Fact]
    public async Task StreamWithoutTheLastBlankLine_IsPassedOnWholeAtTheEnd()
    {
        var text = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]";

        var (received, _, removed) = await FilterAsync(Encoding.UTF8.GetBytes(text));

        Assert.Equal(text, received);
        Assert.False(removed);
    }

    [Fact]
    public async Task UnfinishedEventLongerThanTheLimit_EndsFilteringWithoutLosingBytes()
    {
        var huge = "data: " + new string('a', UsageChunkFilter.MaxHeldBytes + 10) + "\n\n";
        var bytes = Encoding.UTF8.GetBytes(huge).Concat(Stream).ToArray();
        var half = UsageChunkFilter.MaxHeldBytes / 2;
        var over = UsageChunkFilter.MaxHeldBytes + 4; // held, still inside the long event

        var (received, written, removed) = await FilterAsync(bytes[..half], bytes[half..over], bytes[over..]);

        Assert.Equal(Encoding.UTF8.GetString(bytes), received); // the usage chunk included: filtering stopped
        Assert.Equal(bytes.Length, written);
        Assert.False(removed);
    }
}

using System.Buffers;
using System.IO.Pipelines;
using FcHandler.Proxy.WebSockets;

namespace FcHandler.Tests.Proxy.WebSockets;

/// <summary>
/// The relay wrapper alone, driven as YARP drives it (reads of what the client sent, writes of what the upstream sent),
/// over in-memory pipes: where the proxy's own close frames go in, and what it leaves out.
/// </summary>
public sealed class WebSocketRelayStreamTests : IDisposable
{
    private readonly Pipe _fromClient = new();
    private readonly Pipe _toClient = new();
    private readonly WebSocketSession _session = new(TimeSpan.FromMinutes(1));
    private readonly WebSocketRelayStream _relay;

    public WebSocketRelayStreamTests()
        => _relay = _session.Attach(new DuplexStream(_fromClient.Reader.AsStream(), _toClient.Writer.AsStream()));

    public void Dispose()
    {
        _relay.Dispose();
        _session.Dispose();
    }

    private async Task ClientSendsAsync(byte[] bytes) => await _fromClient.Writer.WriteAsync(bytes);

    private async Task<byte[]> RelayReadAsync()
    {
        var buffer = new byte[64 * 1024];
        var read = await _relay.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return buffer[..read];
    }

    private async Task<byte[]> ClientReceivedAsync()
    {
        _toClient.Writer.Complete();
        var result = await _toClient.Reader.ReadAtLeastAsync(int.MaxValue);
        return result.Buffer.ToArray();
    }

    [Fact]
    public async Task RequestClose_InTheMiddleOfAnUpstreamFrame_ClosesRightAfterIt()
    {
        var frame = Frames.Text(new string('x', 300), masked: false);
        var next = Frames.Text("never relayed", masked: false);

        await _relay.WriteAsync(frame.AsMemory(0, 100));
        _relay.RequestClose();
        byte[] rest = [.. frame[100..], .. next];
        await _relay.WriteAsync(rest);
        await _relay.WriteAsync(Frames.CloseWith(1001, "", masked: false)); // the upstream's answer to ours

        var received = await ClientReceivedAsync();
        Assert.Equal([.. frame, .. CloseFrame.GoingAway.ToClient], received);
        Assert.Equal(ClosedBy.Proxy, _session.ClosedBy);
        Assert.Equal(1001, _session.UpstreamCloseCode);
    }

    [Fact]
    public async Task RequestClose_UpstreamsAnswerArrivesWithTheEndOfTheFrameUnderWay_ItsCodeIsNotedButNotRelayed()
    {
        var frame = Frames.Text(new string('x', 300), masked: false);

        await _relay.WriteAsync(frame.AsMemory(0, 100));
        _relay.RequestClose();
        // The proxy's close went upstream at once (the client side was between frames), and the upstream's answer
        // comes in the same read as the end of its frame, before the client has had the proxy's close.
        byte[] rest = [.. frame[100..], .. Frames.CloseWith(1001, "", masked: false)];
        await _relay.WriteAsync(rest);

        var received = await ClientReceivedAsync();
        Assert.Equal([.. frame, .. CloseFrame.GoingAway.ToClient], received);
        Assert.Equal(1001, _session.UpstreamCloseCode);
        Assert.True(_session.UpstreamClosed.IsCompleted);
    }

    [Fact]
    public async Task RequestClose_WithNothingUnderWay_SendsTheCloseToTheClientAtOnce()
    {
        await _relay.WriteAsync(Frames.Text("before", masked: false));

        _relay.RequestClose();
        var received = await _toClient.Reader.ReadAtLeastAsync(Frames.Text("before", masked: false).Length + CloseFrame.GoingAway.ToClient.Length)
            .AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        var bytes = received.Buffer.ToArray();
        Assert.Equal([.. Frames.Text("before", masked: false), .. CloseFrame.GoingAway.ToClient], bytes);
    }

    [Fact]
    public async Task RequestClose_WhileWaitingForASilentClient_HandsYarpAMaskedCloseThenTheEndOnceTheUpstreamAnswers()
    {
        var pending = RelayReadAsync();

        _relay.RequestClose();
        var close = await pending;

        Assert.Equal(0x80, close[1] & 0x80); // masked, as a client's frame must be
        Assert.Equal(CloseFrame.GoingAwayCode, Frames.CloseCodeOf(close));
        var end = RelayReadAsync();
        Assert.False(end.IsCompleted, "the client's direction ended before the upstream answered the close");
        await _relay.WriteAsync(Frames.CloseWith(1001, "", masked: false)); // the upstream's answer to ours
        Assert.Empty(await end);
        Assert.Equal(1001, _session.UpstreamCloseCode);
        Assert.False(_session.Aborted.IsCancellationRequested);
    }

    [Fact]
    public async Task RequestClose_UpstreamNeverAnswers_TheSessionsAbortEndsTheClientsDirection()
    {
        var pending = RelayReadAsync();
        _relay.RequestClose();
        await pending;
        using var yarpCancellation = CancellationTokenSource.CreateLinkedTokenSource(_session.Aborted); // as YARP links it

        var end = _relay.ReadAsync(new byte[1024], yarpCancellation.Token).AsTask();
        _session.Abort(); // the grace period ran out

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => end.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task RequestClose_InTheMiddleOfAClientFrame_ClosesRightAfterIt()
    {
        var frame = Frames.Text(new string('y', 200), masked: true);
        await ClientSendsAsync(frame[..50]);
        Assert.Equal(frame[..50], await RelayReadAsync());

        _relay.RequestClose();
        await ClientSendsAsync([.. frame[50..], .. Frames.Text("never relayed", masked: true)]);

        Assert.Equal(frame[50..], await RelayReadAsync());
        Assert.Equal(CloseFrame.GoingAwayCode, Frames.CloseCodeOf(await RelayReadAsync()));
        await _relay.WriteAsync(Frames.CloseWith(1001, "", masked: false));
        Assert.Empty(await RelayReadAsync());
    }

    [Fact]
    public async Task ClientConnectionEnds_ReadEndsAndTheSessionIsAborted()
    {
        await ClientSendsAsync(Frames.Text("last words", masked: true));
        await _fromClient.Writer.CompleteAsync();

        Assert.NotEmpty(await RelayReadAsync());
        Assert.Empty(await RelayReadAsync());
        Assert.True(_session.Aborted.IsCancellationRequested);
        Assert.Equal(ClosedBy.ClientGone, _session.ClosedBy);
    }

    [Fact]
    public async Task SteadyState_RelayingFrames_AllocatesNothingPerFrame()
    {
        // Inner streams that complete at once, so what is measured is the wrapper's own work per frame.
        const int Frames = 2_000;
        var fromClient = WebSockets.Frames.Text("input_audio_buffer.append", masked: true);
        var toClient = WebSockets.Frames.Text("response.output_audio.delta", masked: false);
        using var clientBytes = new MemoryStream([.. Enumerable.Repeat(fromClient, 2 * Frames).SelectMany(f => f)]);
        using var sink = new MemoryStream(2 * Frames * toClient.Length);
        using var session = new WebSocketSession(TimeSpan.FromMinutes(1));
        using var relay = session.Attach(new DuplexStream(clientBytes, sink));
        var buffer = new byte[fromClient.Length];
        var shortReads = 0;
        for (var i = 0; i < Frames; i++) // warm up: JIT tiers, pools
        {
            await relay.WriteAsync(toClient);
            shortReads += await relay.ReadAsync(buffer) == buffer.Length ? 0 : 1;
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Frames; i++)
        {
            await relay.WriteAsync(toClient);
            shortReads += await relay.ReadAsync(buffer) == buffer.Length ? 0 : 1;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Fewer bytes than frames: no object (24 bytes at least) is made per frame; what remains is one-time runtime work.
        Assert.True(allocated < Frames, $"{allocated} bytes allocated for {Frames} frames each way");
        Assert.Equal(0, shortReads);
        Assert.Equal(2 * Frames * fromClient.Length, session.BytesFromClient);
        Assert.Equal(2 * Frames * toClient.Length, session.BytesToClient);
    }

    /// <summary>Reads from one stream and writes to another, as an upgraded connection does.</summary>
    private sealed class DuplexStream(Stream reads, Stream writes) : Stream
    {
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => reads.ReadAsync(buffer, cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => writes.WriteAsync(buffer, cancellationToken);

        public override Task FlushAsync(CancellationToken cancellationToken) => writes.FlushAsync(cancellationToken);

        public override void Flush() => writes.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

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
    private readonly PipedRelay _piped = new(new WebSocketSession(TimeSpan.FromMinutes(1)));

    private WebSocketSession Session => _piped.Session;

    private WebSocketRelayStream Relay => _piped.Relay;

    public void Dispose() => _piped.Dispose();

    private Task ClientSendsAsync(byte[] bytes) => _piped.ClientSendsAsync(bytes);

    private Task<byte[]> RelayReadAsync() => _piped.RelayReadAsync();

    private Task<byte[]> ClientReceivedAsync() => _piped.ClientReceivedAsync();

    [Fact]
    public async Task RequestClose_InTheMiddleOfAnUpstreamFrame_ClosesRightAfterIt()
    {
        var frame = Frames.Text(new string('x', 300), masked: false);
        var next = Frames.Text("never relayed", masked: false);

        await Relay.WriteAsync(frame.AsMemory(0, 100));
        Relay.RequestClose();
        byte[] rest = [.. frame[100..], .. next];
        await Relay.WriteAsync(rest);
        await Relay.WriteAsync(Frames.CloseWith(1001, "", masked: false)); // the upstream's answer to ours

        var received = await ClientReceivedAsync();
        Assert.Equal([.. frame, .. CloseFrame.GoingAway.ToClient], received);
        Assert.Equal(ClosedBy.Proxy, Session.ClosedBy);
        Assert.Equal(1001, Session.UpstreamCloseCode);
    }

    [Fact]
    public async Task RequestClose_UpstreamsAnswerArrivesWithTheEndOfTheFrameUnderWay_ItsCodeIsNotedButNotRelayed()
    {
        var frame = Frames.Text(new string('x', 300), masked: false);

        await Relay.WriteAsync(frame.AsMemory(0, 100));
        Relay.RequestClose();
        // The proxy's close went upstream at once (the client side was between frames), and the upstream's answer
        // comes in the same read as the end of its frame, before the client has had the proxy's close.
        byte[] rest = [.. frame[100..], .. Frames.CloseWith(1001, "", masked: false)];
        await Relay.WriteAsync(rest);

        var received = await ClientReceivedAsync();
        Assert.Equal([.. frame, .. CloseFrame.GoingAway.ToClient], received);
        Assert.Equal(1001, Session.UpstreamCloseCode);
        Assert.True(Session.UpstreamClosed.IsCompleted);
    }

    [Fact]
    public async Task RequestClose_WithNothingUnderWay_SendsTheCloseToTheClientAtOnce()
    {
        await Relay.WriteAsync(Frames.Text("before", masked: false));

        Relay.RequestClose();
        var received = await _piped.ToClient.Reader.ReadAtLeastAsync(Frames.Text("before", masked: false).Length + CloseFrame.GoingAway.ToClient.Length)
            .AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        var bytes = received.Buffer.ToArray();
        Assert.Equal([.. Frames.Text("before", masked: false), .. CloseFrame.GoingAway.ToClient], bytes);
    }

    [Fact]
    public async Task RequestClose_WhileWaitingForASilentClient_HandsYarpAMaskedCloseThenTheEndOnceTheUpstreamAnswers()
    {
        var pending = RelayReadAsync();

        Relay.RequestClose();
        var close = await pending;

        Assert.Equal(0x80, close[1] & 0x80); // masked, as a client's frame must be
        Assert.Equal(CloseFrame.GoingAwayCode, Frames.CloseCodeOf(close));
        var end = RelayReadAsync();
        Assert.False(end.IsCompleted, "the client's direction ended before the upstream answered the close");
        await Relay.WriteAsync(Frames.CloseWith(1001, "", masked: false)); // the upstream's answer to ours
        Assert.Empty(await end);
        Assert.Equal(1001, Session.UpstreamCloseCode);
        Assert.False(Session.Aborted.IsCancellationRequested);
    }

    [Fact]
    public async Task RequestClose_UpstreamNeverAnswers_TheSessionsAbortEndsTheClientsDirection()
    {
        var pending = RelayReadAsync();
        Relay.RequestClose();
        await pending;
        using var yarpCancellation = CancellationTokenSource.CreateLinkedTokenSource(Session.Aborted); // as YARP links it

        var end = Relay.ReadAsync(new byte[1024], yarpCancellation.Token).AsTask();
        Session.Abort(); // the grace period ran out

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => end.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task RequestClose_InTheMiddleOfAClientFrame_ClosesRightAfterIt()
    {
        var frame = Frames.Text(new string('y', 200), masked: true);
        await ClientSendsAsync(frame[..50]);
        Assert.Equal(frame[..50], await RelayReadAsync());

        Relay.RequestClose();
        await ClientSendsAsync([.. frame[50..], .. Frames.Text("never relayed", masked: true)]);

        Assert.Equal(frame[50..], await RelayReadAsync());
        Assert.Equal(CloseFrame.GoingAwayCode, Frames.CloseCodeOf(await RelayReadAsync()));
        await Relay.WriteAsync(Frames.CloseWith(1001, "", masked: false));
        Assert.Empty(await RelayReadAsync());
    }

    [Fact]
    public async Task ClientConnectionEnds_ReadEndsAndTheSessionIsAborted()
    {
        await ClientSendsAsync(Frames.Text("last words", masked: true));
        await _piped.FromClient.Writer.CompleteAsync();

        Assert.NotEmpty(await RelayReadAsync());
        Assert.Empty(await RelayReadAsync());
        Assert.True(Session.Aborted.IsCancellationRequested);
        Assert.Equal(ClosedBy.ClientGone, Session.ClosedBy);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // WEBSOCKET_PING on, as by default: the pong filters and the silence clocks on every read and write
    public async Task SteadyState_RelayingFrames_AllocatesNothingPerFrame(bool pings)
    {
        // Inner streams that complete at once, so what is measured is the wrapper's own work per frame.
        const int Frames = 2_000;
        var fromClient = WebSockets.Frames.Text("input_audio_buffer.append", masked: true);
        var toClient = WebSockets.Frames.Text("response.output_audio.delta", masked: false);
        using var clientBytes = new MemoryStream([.. Enumerable.Repeat(fromClient, 2 * Frames).SelectMany(f => f)]);
        using var sink = new MemoryStream(2 * Frames * toClient.Length);
        using var session = new WebSocketSession(TimeSpan.FromMinutes(1)) { Pings = pings ? new WebSocketPings(TimeSpan.FromMinutes(1), TimeProvider.System) : null };
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
}

using System.Buffers;
using System.IO.Pipelines;
using FcHandler.Proxy.WebSockets;
using Microsoft.Extensions.Time.Testing;

namespace FcHandler.Tests.Proxy.WebSockets;

/// <summary>
/// The relay's pings alone, driven as YARP drives it over in-memory pipes, on a fake clock: where the proxy's pings go
/// in, which pongs it keeps, and that nothing outlives the session.
/// </summary>
public sealed class WebSocketPingRelayTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();
    private readonly PipedRelay _piped;

    public WebSocketPingRelayTests()
        => _piped = new PipedRelay(new WebSocketSession(TimeSpan.FromMinutes(1)) { Pings = new WebSocketPings(Interval, _time) });

    private WebSocketSession Session => _piped.Session;

    private WebSocketRelayStream Relay => _piped.Relay;

    private byte[] Payload => Session.Pings!.Payload;

    public void Dispose() => _piped.Dispose();

    private Task ClientSendsAsync(byte[] bytes) => _piped.ClientSendsAsync(bytes);

    private Task<byte[]> RelayReadAsync() => _piped.RelayReadAsync();

    private Task<byte[]> ClientReceivedAsync() => _piped.ClientReceivedAsync();

    private static byte[] Unmasked(byte[] frame)
    {
        Assert.Equal(0x80, frame[1] & 0x80);
        return [.. frame[6..].Select((b, i) => (byte)(b ^ frame[2 + (i & 3)]))];
    }

    [Fact]
    public async Task Ping_SilentClient_WakesTheWaitingReadWithAMaskedPingNotCountedAsClientBytes()
    {
        var pending = RelayReadAsync();

        _time.Advance(Interval);
        var ping = await pending;

        Assert.Equal((0x89, 0x80 | 8), (ping[0], ping[1]));
        Assert.Equal(Payload, Unmasked(ping));
        Assert.Equal(0, Session.BytesFromClient);
        await ClientSendsAsync(Frames.Text("after", masked: true));
        Assert.Equal(Frames.Text("after", masked: true), await RelayReadAsync());
    }

    [Fact]
    public async Task Ping_DueInTheMiddleOfAClientFrame_GoesUpRightAfterIt()
    {
        var frame = Frames.Text(new string('y', 200), masked: true);
        await ClientSendsAsync(frame[..50]);
        Assert.Equal(frame[..50], await RelayReadAsync());

        _time.Advance(Interval);
        var pending = RelayReadAsync();
        await ClientSendsAsync(frame[50..]);

        Assert.Equal(frame[50..], await pending);
        Assert.Equal(Payload, Unmasked(await RelayReadAsync()));
    }

    [Fact]
    public async Task Ping_SilentUpstream_ClientGetsItUnmaskedNotCountedAsUpstreamBytes()
    {
        await Relay.WriteAsync(Frames.Text("before", masked: false));

        _time.Advance(Interval);

        var received = await ClientReceivedAsync();
        Assert.Equal([.. Frames.Text("before", masked: false), 0x89, 8, .. Payload], received);
        Assert.Equal(Frames.Text("before", masked: false).Length, Session.BytesToClient);
    }

    [Fact]
    public async Task Ping_DueInTheMiddleOfAnUpstreamFrame_WaitsForTheNextTickAfterIt()
    {
        var frame = Frames.Text(new string('x', 300), masked: false);
        await Relay.WriteAsync(frame.AsMemory(0, 100));

        _time.Advance(Interval); // due, but the client has a frame under way
        await Relay.WriteAsync(frame.AsMemory(100));
        _time.Advance(Interval);

        var received = await ClientReceivedAsync();
        Assert.Equal([.. frame, 0x89, 8, .. Payload], received);
    }

    [Fact]
    public async Task Pong_ToTheProxysPing_SplitAcrossClientReads_GoesNoFurther()
    {
        var pong = Frames.Build(0xA, Payload, masked: true);
        await ClientSendsAsync([.. Frames.Text("one", masked: true), .. pong[..3]]);
        Assert.Equal(Frames.Text("one", masked: true), await RelayReadAsync());
        await ClientSendsAsync([.. pong[3..], .. Frames.Text("two", masked: true)]);

        Assert.Equal(Frames.Text("two", masked: true), await RelayReadAsync());
    }

    [Fact]
    public async Task Pong_OfAnotherPing_SplitAcrossClientReads_PassesWhole()
    {
        var pong = Frames.Build(0xA, "the upstream's"u8.ToArray(), masked: true);
        await ClientSendsAsync([.. Frames.Text("one", masked: true), .. pong[..3]]);
        Assert.Equal(Frames.Text("one", masked: true), await RelayReadAsync());
        await ClientSendsAsync([.. pong[3..], .. Frames.Text("two", masked: true)]);

        Assert.Equal(pong, await RelayReadAsync());
        Assert.Equal(Frames.Text("two", masked: true), await RelayReadAsync());
    }

    [Fact]
    public async Task Pong_FromTheUpstream_OnlyTheProxysStays()
    {
        var ours = Frames.Build(0xA, Payload, masked: false);
        var theirs = Frames.Build(0xA, "the client's"u8.ToArray(), masked: false);
        byte[] upstream = [.. Frames.Text("a", masked: false), .. ours, .. theirs, .. Frames.Text("b", masked: false)];

        // Byte by byte: a pong split anywhere is still found.
        for (var i = 0; i < upstream.Length; i++)
        {
            await Relay.WriteAsync(upstream.AsMemory(i, 1));
        }

        var received = await ClientReceivedAsync();
        Assert.Equal([.. Frames.Text("a", masked: false), .. theirs, .. Frames.Text("b", masked: false)], received);
    }

    [Fact]
    public async Task PongBytes_InsideAPayload_PassUntouched()
    {
        // A payload that looks like the proxy's pong is a payload: frames are followed by their lengths.
        byte[] lookalike = [0x8A, 8, .. Payload];
        var frame = Frames.Build(Frames.Binary, lookalike, masked: false);

        await Relay.WriteAsync(frame);

        Assert.Equal(frame, await ClientReceivedAsync());
    }

    [Fact]
    public async Task Session_Closed_NoPingAfterIt()
    {
        Session.Close(TimeSpan.FromSeconds(2));
        var close = await _piped.ToClient.Reader.ReadAtLeastAsync(CloseFrame.GoingAway.ToClient.Length).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        _piped.ToClient.Reader.AdvanceTo(close.Buffer.End);

        _time.Advance(Interval);
        _time.Advance(Interval);

        Assert.Empty(await ClientReceivedAsync());
    }

    [Fact]
    public async Task Session_Disposed_ItsTimerIsGone()
    {
        Session.Dispose();

        _time.Advance(Interval);

        Assert.Empty(await ClientReceivedAsync());
    }
}

using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using FcHandler.Hosting;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Proxy.WebSockets;

/// <summary>
/// WEBSOCKET_PING through real sockets: a raw client and a raw fake upstream that see every frame, the proxy between
/// them pinging each side after 200 ms of silence toward it.
/// </summary>
public sealed class WebSocketPingTests : ProxyTest
{
    private const int PingOpcode = 0x9;
    private const int PongOpcode = 0xA;
    private const int ContinuationOpcode = 0x0;

    private readonly Channel<RawFrame> _atUpstream = Channel.CreateUnbounded<RawFrame>();
    private readonly TaskCompletionSource<RawWebSocket> _upstreamSocket = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["WEBSOCKET_PING"] = "200ms" };

    // The upstream's end: every frame it receives goes to _atUpstream, until the connection ends.
    private void UpstreamRecordsFrames()
        => Upstream.RawWebSocketHandler = async socket =>
        {
            _upstreamSocket.TrySetResult(socket);
            try
            {
                while (await socket.ReceiveAsync() is { } frame)
                {
                    await _atUpstream.Writer.WriteAsync(frame);
                }
            }
            catch (Exception exception) when (exception is IOException or TimeoutException or OperationCanceledException)
            {
                // The test is over.
            }
        };

    private Task<RawWebSocket> UpstreamSocket => _upstreamSocket.Task.WaitAsync(TimeSpan.FromSeconds(30));

    private async Task<RawFrame> AtUpstreamAsync() => await _atUpstream.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

    // The proxy's own pings carry 8 random bytes; the tests' own control frames carry text.
    private static bool IsProxyPing(RawFrame frame) => frame is { Opcode: PingOpcode, Payload.Length: 8 };

    private async Task<RawFrame> AtUpstreamSkippingProxyPingsAsync()
    {
        while (true)
        {
            var frame = await AtUpstreamAsync();
            if (!IsProxyPing(frame))
            {
                return frame;
            }
        }
    }

    private static async Task<RawFrame> SkippingProxyPingsAsync(RawWebSocket client)
    {
        while (true)
        {
            var frame = await client.ReceiveAsync();
            Assert.NotNull(frame);
            if (!IsProxyPing(frame))
            {
                return frame;
            }
        }
    }

    [Fact]
    public async Task Ping_SilentSession_EachSideGetsOneMaskedOnlyTowardTheUpstream()
    {
        UpstreamRecordsFrames();
        await using var client = await RawWebSocket.ConnectAsync(Proxy.BaseAddress);

        var toClient = await client.ReceiveAsync();
        var toUpstream = await AtUpstreamAsync();

        Assert.NotNull(toClient);
        Assert.Equal((0x89, false, 8), (toClient.First, toClient.Masked, toClient.Payload.Length));
        Assert.Equal((0x89, true), (toUpstream.First, toUpstream.Masked));
        Assert.Equal(toClient.Payload, toUpstream.Payload);
    }

    [Fact]
    public async Task Pong_AnswersTheProxysPing_GoesNoFurtherEitherWay()
    {
        UpstreamRecordsFrames();
        await using var client = await RawWebSocket.ConnectAsync(Proxy.BaseAddress);
        var upstream = await UpstreamSocket;
        var toUpstream = await AtUpstreamAsync();
        var toClient = await client.ReceiveAsync();
        Assert.True(IsProxyPing(toUpstream) && IsProxyPing(toClient!));

        // Each side answers, then sends a message: the message is the next thing the other side sees.
        await client.SendAsync([.. Frames.Build(PongOpcode, toClient!.Payload, masked: true), .. Frames.Text("up", masked: true)]);
        await upstream.SendAsync([.. Frames.Build(PongOpcode, toUpstream.Payload, masked: false), .. Frames.Text("down", masked: false)]);

        var atUpstream = await AtUpstreamSkippingProxyPingsAsync();
        var atClient = await SkippingProxyPingsAsync(client);
        Assert.Equal((Frames.TextOpcode, "up"), (atUpstream.Opcode, atUpstream.Text));
        Assert.Equal((Frames.TextOpcode, "down"), (atClient.Opcode, atClient.Text));
    }

    [Fact]
    public async Task PingAndPong_OfTheClientAndTheUpstream_PassUnchanged()
    {
        UpstreamRecordsFrames();
        await using var client = await RawWebSocket.ConnectAsync(Proxy.BaseAddress);
        var upstream = await UpstreamSocket;

        await client.SendAsync(Frames.Build(PingOpcode, "client ping"u8.ToArray(), masked: true));
        var clientPing = await AtUpstreamSkippingProxyPingsAsync();
        await upstream.SendAsync(Frames.Build(PongOpcode, clientPing.Payload, masked: false));
        var answer = await SkippingProxyPingsAsync(client);

        await upstream.SendAsync(Frames.Build(PingOpcode, "upstream ping"u8.ToArray(), masked: false));
        var upstreamPing = await SkippingProxyPingsAsync(client);
        await client.SendAsync(Frames.Build(PongOpcode, upstreamPing.Payload, masked: true));
        var clientAnswer = await AtUpstreamSkippingProxyPingsAsync();

        Assert.Equal((PingOpcode, "client ping"), (clientPing.Opcode, clientPing.Text));
        Assert.Equal((PongOpcode, "client ping"), (answer.Opcode, answer.Text));
        Assert.Equal((PingOpcode, "upstream ping"), (upstreamPing.Opcode, upstreamPing.Text));
        Assert.Equal((PongOpcode, "upstream ping"), (clientAnswer.Opcode, clientAnswer.Text));
    }

    [Fact]
    public async Task Ping_InTheMiddleOfAFragmentedClientMessage_GoesBetweenItsFramesOnly()
    {
        UpstreamRecordsFrames();
        await using var client = await RawWebSocket.ConnectAsync(Proxy.BaseAddress);
        var payload = Encoding.UTF8.GetBytes(new string('a', 300));

        // The first frame in two pieces, then silence toward the upstream: three pings to the client are more than an
        // interval, so the upstream's ping is due meanwhile.
        var first = Frames.Build(Frames.TextOpcode, payload, masked: true, fin: false);
        await client.SendAsync(first[..100]);
        await client.SendAsync(first[100..]);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(IsProxyPing((await client.ReceiveAsync())!));
        }

        await client.SendAsync(Frames.Build(ContinuationOpcode, "end"u8.ToArray(), masked: true, fin: true));

        var frames = new List<RawFrame>();
        while (frames.Count == 0 || !frames[^1].Fin || frames[^1].Opcode == PingOpcode)
        {
            frames.Add(await AtUpstreamAsync());
        }

        var data = frames.Where(f => f.Opcode != PingOpcode).ToList();
        Assert.Equal([(Frames.TextOpcode, false, 300), (ContinuationOpcode, true, 3)], data.Select(f => (f.Opcode, f.Fin, f.Payload.Length)));
        Assert.Equal(new string('a', 300), data[0].Text);
        var between = frames.IndexOf(data[1]) - frames.IndexOf(data[0]) - 1;
        Assert.True(between > 0, "no ping went up between the message's frames");
        Assert.All(frames.Where(IsProxyPing), ping => Assert.True(ping.Masked));
    }

    [Fact]
    public async Task Ping_InTheMiddleOfAFragmentedUpstreamMessage_ClientWebSocketReadsItWholeAndItsPongStays()
    {
        UpstreamRecordsFrames();
        using var client = await RealtimeSockets.ConnectAsync(Proxy, options => options.KeepAliveInterval = TimeSpan.Zero);
        var upstream = await UpstreamSocket;

        // Silence toward the client after the first frame: three pings to the upstream are more than an interval.
        await upstream.SendAsync(Frames.Build(Frames.TextOpcode, "Hel"u8.ToArray(), masked: false, fin: false));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(IsProxyPing(await AtUpstreamAsync()));
        }

        await upstream.SendAsync(Frames.Build(ContinuationOpcode, "lo"u8.ToArray(), masked: false, fin: true));

        // .NET's parser answered the proxy's pings with pongs; the upstream gets none of them, only the next message.
        Assert.Equal("Hello", await client.ReceiveTextAsync());
        await client.SendTextAsync("next");
        var atUpstream = await AtUpstreamSkippingProxyPingsAsync();
        Assert.Equal((Frames.TextOpcode, "next"), (atUpstream.Opcode, atUpstream.Text));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-5s")]
    [InlineData("2d")]
    [InlineData("on")]
    public void Read_InvalidWebSocketPing_ThrowsNamingTheSetting(string value)
    {
        var exception = Assert.Throws<ConfigurationException>(() => ProxyOptionsReader.Read(TestSettings.Of(("WEBSOCKET_PING", value))));
        Assert.Contains("WEBSOCKET_PING", exception.Message, StringComparison.Ordinal);
        Assert.Contains(value, exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, 30_000)]
    [InlineData("", 30_000)]
    [InlineData("off", 0)]
    [InlineData("0", 0)]
    [InlineData("45s", 45_000)]
    [InlineData("500ms", 500)]
    public void Read_WebSocketPing_DefaultOffOrDuration(string? value, int milliseconds)
    {
        var settings = value is null ? TestSettings.Of() : TestSettings.Of(("WEBSOCKET_PING", value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), ProxyOptionsReader.Read(settings).WebSocketPing);
    }
}

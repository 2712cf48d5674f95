using System.Net.Sockets;
using System.Text;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Security;

/// <summary>
/// Slow and idle clients in numbers, over real sockets, while streams run: headers trickled byte by byte, bodies
/// trickled below Kestrel's minimum rate, and connections that never send a byte. The streams keep flowing event by
/// event; the tricklers get 408 and are closed; nothing of theirs reaches the upstream. (Timing and memory at 1,000
/// connections are measured in bench/, not asserted here.)
/// </summary>
public sealed class SlowClientTests : ProxyTest
{
    private const int Streams = 20;
    private const int EachKind = 100;
    private const int Events = 5;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["CLIENT_TIMEOUT"] = "2s" };

    [Fact]
    public async Task HundredsOfTricklingAndIdleConnections_StreamsKeepFlowing_TricklersGet408AndForwardNothing()
    {
        // Each stream sends event i when the test says so, and the test reads it from every stream before the next.
        var ticks = Enumerable.Range(0, Events).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        Upstream.Handler = async (context, _) =>
        {
            await FakeResponses.StartSseAsync(context);
            await FakeResponses.WriteEventAsync(context, FakeResponses.ChatChunk("open")); // the proxy sends headers with the first bytes
            for (var i = 0; i < Events; i++)
            {
                await ticks[i].Task.WaitAsync(TimeSpan.FromSeconds(30));
                await FakeResponses.WriteEventAsync(context, FakeResponses.ChatChunk($"event-{i}"));
            }

            await FakeResponses.WriteEventAsync(context, "[DONE]");
        };
        var streams = await Task.WhenAll(Enumerable.Range(0, Streams).Select(_ => OpenStreamAsync()));

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var idle = await Task.WhenAll(Enumerable.Range(0, EachKind).Select(_ => ConnectAsync(stop.Token)));
        var headerTricklers = Enumerable.Range(0, EachKind).Select(_ => RawHttp.ExchangeAsync(Proxy.BaseAddress, (stream, token) => TrickleAsync(
            stream, "", "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-trickle\r\nX-Pad: " + new string('a', 4096) + "\r\n\r\n", token))).ToArray();
        var bodyTricklers = Enumerable.Range(0, EachKind).Select(_ => RawHttp.ExchangeAsync(Proxy.BaseAddress, (stream, token) => TrickleAsync(
            stream, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n", new string(' ', 10000), token))).ToArray();

        // The streams flow while all of that goes on: every event reaches every stream.
        for (var i = 0; i < Events; i++)
        {
            ticks[i].SetResult();
            foreach (var (_, reader) in streams)
            {
                Assert.Contains($"event-{i}", await ReadEventAsync(reader), StringComparison.Ordinal);
            }
        }

        foreach (var (response, reader) in streams)
        {
            Assert.Equal("data: [DONE]", await ReadEventAsync(reader));
            reader.Dispose();
            response.Dispose();
        }

        // Headers never completed: Kestrel's 408, empty, connection closed. A body below 240 bytes/s: the proxy's 408.
        Assert.All(await Task.WhenAll(headerTricklers), raw => Assert.Equal(408, RawHttp.StatusOf(raw)));
        Assert.All(await Task.WhenAll(bodyTricklers), raw =>
        {
            Assert.Equal(408, RawHttp.StatusOf(raw));
            Assert.Contains("\"code\":\"request_timeout\"", raw, StringComparison.Ordinal);
        });

        // Only the streams reached the upstream; the idle connections were never served and are still open, as FC's own
        // pooled connections must stay (ClientLimits.KeepAliveTimeout).
        Assert.Equal(Streams, Upstream.Requests.Count);
        Assert.All(idle, socket => Assert.True(socket.Connected));
        await stop.CancelAsync();
        foreach (var socket in idle)
        {
            socket.Dispose();
        }
    }

    private async Task<(HttpResponseMessage Response, StreamReader Reader)> OpenStreamAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","stream":true,"messages":[]}"""),
        };
        var response = await Proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Contains("open", await ReadEventAsync(reader), StringComparison.Ordinal);
        return (response, reader);
    }

    private async Task<Socket> ConnectAsync(CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(Proxy.BaseAddress.Host, Proxy.BaseAddress.Port, cancellationToken);
        return socket;
    }

    private static async Task<string> ReadEventAsync(StreamReader reader)
    {
        var line = await reader.ReadLineAsync();
        Assert.Equal("", await reader.ReadLineAsync()); // an event ends with a blank line
        return line!;
    }

    /// <summary>
    /// Sends <paramref name="atOnce"/>, then <paramref name="trickled"/> a byte every 100 ms (10 bytes/s, far below
    /// Kestrel's 240), until the server answers and closes. The pace is the load under test, not a wait.
    /// </summary>
    private static async Task TrickleAsync(Stream stream, string atOnce, string trickled, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(atOnce), cancellationToken);
        var bytes = Encoding.ASCII.GetBytes(trickled);
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        for (var i = 0; i < bytes.Length && await pace.WaitForNextTickAsync(cancellationToken); i++)
        {
            await stream.WriteAsync(bytes.AsMemory(i, 1), cancellationToken);
        }
    }
}

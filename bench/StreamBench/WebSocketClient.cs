using System.Buffers.Text;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;

namespace StreamBench;

/// <summary>
/// Opens <see cref="Options.Streams"/> concurrent Realtime sessions (spread over <see cref="Options.RampMs"/>) as an
/// SDK does (<c>GET /v1/realtime?model=...</c> upgraded to a WebSocket, the key in <c>Authorization</c>), each asking
/// <see cref="WebSocketUpstream"/> for <see cref="Options.Events"/> audio deltas <see cref="Options.IntervalMs"/> apart
/// of <see cref="Options.FrameBytes"/> each: it waits for <c>session.created</c>, sends <c>response.create</c>, records
/// per delta the delay between the upstream's send stamp and the whole message's arrival here, and on
/// <c>response.done</c> closes with 1000. A session is complete when every delta arrived, then <c>response.done</c>,
/// and the close handshake ended with 1000; anything else is an error. Records the handshake's time too (to the 101).
/// Writes one JSON object: the raw samples in microseconds, the error count and a few error messages.
/// </summary>
internal static class WebSocketClient
{
    public static async Task<int> RunAsync(Options options)
    {
        var path = options.Path.StartsWith("/v1/realtime", StringComparison.Ordinal) ? options.Path : "/v1/realtime?model=gpt-realtime";
        var uri = new Uri($"ws://127.0.0.1:{options.Port}{path}{(path.Contains('?', StringComparison.Ordinal) ? '&' : '?')}" +
            $"frames={options.Events}&interval_ms={options.IntervalMs}&frame_bytes={options.FrameBytes}");

        return await ConcurrentLoad.RunAsync(options, "sessions", "handshake_us",
            (_, cancellationToken) => OneSessionAsync(uri, options, cancellationToken), session => (session.HandshakeUs, session.DelaysUs));
    }

    private static async Task<(double HandshakeUs, double[] DelaysUs)> OneSessionAsync(
        Uri uri, Options options, CancellationToken cancellationToken)
    {
        using var ws = new ClientWebSocket();
        ws.Options.SetRequestHeader("Authorization", "Bearer " + options.Token);
        ws.Options.KeepAliveInterval = TimeSpan.Zero; // no pings: the frames relayed are the session's own
        var sent = Stopwatch.GetTimestamp();
        await ws.ConnectAsync(uri, cancellationToken);
        var handshake = StreamClient.Micros(Stopwatch.GetTimestamp() - sent);

        var buffer = new byte[options.FrameBytes + 4096];
        var (length, _) = await ReceiveAsync(ws, buffer, cancellationToken);
        if (!buffer.AsSpan(0, length).StartsWith("{\"type\":\"session.created\""u8))
        {
            throw new IOException("the first message is not session.created");
        }

        await ws.SendAsync("{\"type\":\"response.create\",\"event_id\":\"event_client_1\"}"u8.ToArray(), WebSocketMessageType.Text, true, cancellationToken);
        var samples = new List<double>(options.Events);
        while (true)
        {
            (length, var arrived) = await ReceiveAsync(ws, buffer, cancellationToken);
            var message = buffer.AsSpan(0, length);
            if (message.StartsWith("{\"type\":\"response.done\""u8))
            {
                break;
            }

            var at = message.IndexOf("\"t\":"u8);
            if (at >= 0 && Utf8Parser.TryParse(message[(at + 4)..], out long stamp, out _))
            {
                samples.Add(StreamClient.Micros(arrived - stamp));
            }
        }

        await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cancellationToken);
        if (samples.Count != options.Events)
        {
            throw new IOException($"response.done after {samples.Count} of {options.Events} deltas");
        }

        if (ws.CloseStatus != WebSocketCloseStatus.NormalClosure)
        {
            throw new IOException($"closed with {ws.CloseStatus}, not 1000");
        }

        return (handshake, [.. samples]);
    }

    /// <summary>One whole text message: its length and when its last byte arrived. A close frame is an error here.</summary>
    private static async Task<(int Length, long Arrived)> ReceiveAsync(ClientWebSocket ws, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        while (true)
        {
            var result = await ws.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            var arrived = Stopwatch.GetTimestamp();
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new IOException($"closed by the other side ({ws.CloseStatus} {ws.CloseStatusDescription}) mid-session");
            }

            length += result.Count;
            if (result.EndOfMessage)
            {
                return (length, arrived);
            }

            if (length == buffer.Length)
            {
                throw new IOException("a message longer than the frames asked for");
            }
        }
    }
}

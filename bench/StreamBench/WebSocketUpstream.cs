using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace StreamBench;

/// <summary>
/// The fake upstream's Realtime side: a request with <c>Upgrade: websocket</c> reaching <see cref="SseUpstream"/> is
/// accepted here with the RFC 6455 handshake on the same socket (selecting the subprotocol <c>realtime</c> if offered),
/// then plays one Realtime response as OpenAI's server sends it: <c>session.created</c> at once; after the client's
/// first message (its <c>response.create</c>), <c>frames</c> audio deltas <c>interval_ms</c> apart on an absolute
/// schedule, each carrying <c>frame_bytes</c> of base64 audio and the <see cref="Stopwatch"/> timestamp taken just
/// before it was sent (the clock the client reads); then a <c>response.done</c> with usage, as the proxy reads it.
/// The client then closes, and the close handshake completes. The session's shape rides in the query
/// (<c>/v1/realtime?model=...&amp;frames=N&amp;interval_ms=M&amp;frame_bytes=B</c>), defaults from the options.
/// Client messages after the first are read and dropped.
/// </summary>
internal static class WebSocketUpstream
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    public static bool IsUpgrade(string head) => head.Contains("\nupgrade: websocket", StringComparison.OrdinalIgnoreCase);

    public static async Task ServeAsync(Socket socket, string head, Options options)
    {
        var key = SseUpstream.HeaderString(head, "sec-websocket-key");
        if (key is null)
        {
            await socket.SendAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), SocketFlags.None);
            return;
        }

        var offered = (SseUpstream.HeaderString(head, "sec-websocket-protocol") ?? "").Split(',', StringSplitOptions.TrimEntries);
        var subprotocol = offered.Contains("realtime") ? "realtime" : null;
        var target = head[..head.IndexOf('\r', StringComparison.Ordinal)].Split(' ')[1];
        var frames = Query(target, "frames") ?? options.Events;
        var intervalMs = Query(target, "interval_ms") ?? options.IntervalMs;
        var frameBytes = Query(target, "frame_bytes") ?? options.FrameBytes;

        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Accept: {accept}\r\n" + (subprotocol is null ? "" : $"Sec-WebSocket-Protocol: {subprotocol}\r\n") +
            "x-request-id: req_bench\r\n\r\n"), SocketFlags.None);

        using var stream = new NetworkStream(socket, ownsSocket: false);
        using var ws = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = subprotocol,
            KeepAliveInterval = TimeSpan.Zero, // no pings: every frame the proxy relays is one the client counts
        });
        try
        {
            await SendAsync(ws, "{\"type\":\"session.created\",\"event_id\":\"event_bench_0\",\"session\":{\"object\":\"realtime.session\"," +
                "\"id\":\"sess_bench\",\"model\":\"gpt-realtime\",\"output_modalities\":[\"audio\"]}}");
            var buffer = new byte[16 * 1024];
            if (!await ReadMessageAsync(ws, buffer))
            {
                return; // closed before asking for a response
            }

            var reading = DrainAsync(ws, buffer);
            var audio = new string('A', frameBytes); // base64 of silence: what it costs is its size
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < frames && ws.State == WebSocketState.Open; i++)
            {
                var due = TimeSpan.FromMilliseconds((double)i * intervalMs) - Stopwatch.GetElapsedTime(start);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }

                // "type" first, as OpenAI writes it (the proxy reads a message's first bytes for its type).
                await SendAsync(ws, "{\"type\":\"response.output_audio.delta\",\"event_id\":\"event_bench_" + (i + 1) +
                    "\",\"response_id\":\"resp_bench\",\"item_id\":\"item_bench\",\"output_index\":0,\"content_index\":0,\"t\":" +
                    Stopwatch.GetTimestamp() + ",\"i\":" + i + ",\"delta\":\"" + audio + "\"}");
            }

            await SendAsync(ws, "{\"type\":\"response.done\",\"event_id\":\"event_bench_done\",\"response\":{\"object\":\"realtime.response\"," +
                "\"id\":\"resp_bench\",\"status\":\"completed\",\"output\":[],\"usage\":{\"total_tokens\":" + (frames + 120) +
                ",\"input_tokens\":120,\"output_tokens\":" + frames + ",\"input_token_details\":{\"text_tokens\":120,\"audio_tokens\":0," +
                "\"cached_tokens\":0},\"output_token_details\":{\"text_tokens\":0,\"audio_tokens\":" + frames + "}}}}");
            await reading; // until the client's close frame
            if (ws.State == WebSocketState.CloseReceived)
            {
                await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or IOException or SocketException)
        {
            // The proxy went away; nothing to do.
        }
    }

    private static Task SendAsync(WebSocket ws, string json)
        => ws.SendAsync(Encoding.ASCII.GetBytes(json), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    /// <summary>Reads one whole message; false if it was the close frame.</summary>
    private static async Task<bool> ReadMessageAsync(WebSocket ws, byte[] buffer)
    {
        while (true)
        {
            var result = await ws.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return false;
            }

            if (result.EndOfMessage)
            {
                return true;
            }
        }
    }

    private static async Task DrainAsync(WebSocket ws, byte[] buffer)
    {
        while (await ReadMessageAsync(ws, buffer))
        {
        }
    }

    private static int? Query(string target, string name)
    {
        var query = target.IndexOf('?', StringComparison.Ordinal) is var q and >= 0 ? target[(q + 1)..] : "";
        foreach (var pair in query.Split('&'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && pair[..eq] == name && int.TryParse(pair[(eq + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return parsed;
            }
        }

        return null;
    }
}

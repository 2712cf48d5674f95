using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StreamBench;

/// <summary>
/// A fake OpenAI upstream for streaming: HTTP/1.1 with keep-alive on raw sockets. A request whose body asks for
/// <c>"stream":true</c> gets server-sent events, <see cref="Options.Events"/> of them <see cref="Options.IntervalMs"/>
/// apart (the first at once), each carrying the <see cref="Stopwatch"/> timestamp taken just before it was written
/// (CLOCK_MONOTONIC in ns on Linux, the clock the client reads too), then <c>[DONE]</c>. A POST to <c>/v1/files</c>
/// (an upload) gets a file object whose <c>bytes</c> is the length of the body received, so a client can check that
/// all of it arrived. Anything else gets a small chat completion;
/// an upgrade to a WebSocket gets a Realtime session (<see cref="WebSocketUpstream"/>).
/// <para>
/// Bodies of any length are read; only their first <see cref="InspectedBytes"/> are looked at, the rest is discarded as
/// it arrives. There a request may carry markers, which the benchmarks of faults and limits use; without them nothing
/// changes:
/// <c>"events":N</c> and <c>"interval_ms":M</c> override the stream's length and pace;
/// <c>"fault":"429"</c> or <c>"fault":"500"</c> answer with that status and an OpenAI-shaped error body;
/// <c>"fault":"drop"</c> closes the connection after half the stream's events, without ending the body;
/// <c>"fault":"slow"</c> sends the response's first byte only after <c>"delay_ms":D</c> (default 2000);
/// <c>"quiet_ms":Q</c> sends a stream's status and headers at once, then nothing for Q ms, then its events.
/// </para>
/// <para>
/// Per API key it answers as <c>--key-behaviour</c> says (<see cref="KeyBehaviours"/>), and it counts requests per key and
/// attempts per <c>X-Client-Request-Id</c> (<see cref="UpstreamStats"/>), read with <c>GET /__stats</c>.
/// </para>
/// </summary>
internal static class SseUpstream
{
    /// <summary>What of a body is kept for the markers: the first 64 KB, less the request head.</summary>
    private const int InspectedBytes = 64 * 1024;

    private static readonly byte[] Completion = Encoding.ASCII.GetBytes(
        "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"gpt-4o-mini\"," +
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello from the fake upstream.\"}," +
        "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":7,\"total_tokens\":16}}");

    // OpenAI's own bodies for these statuses (https://platform.openai.com/docs/guides/error-codes), marked as the fake's.
    private static readonly byte[] RateLimited = Response(429, "Too Many Requests", "retry-after: 1\r\n",
        "{\"error\":{\"message\":\"Rate limit reached for requests (fake upstream).\",\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}");

    internal const string ServerErrorBody =
        "{\"error\":{\"message\":\"The server had an error while processing your request (fake upstream).\",\"type\":\"server_error\",\"param\":null,\"code\":null}}";

    private static readonly byte[] ServerError = Response(500, "Internal Server Error", "", ServerErrorBody);

    private static readonly UpstreamStats Stats = new();

    public static async Task<int> RunAsync(Options options)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, options.Port));
        listener.Listen(4096);
        var keys = KeyBehaviours.Parse(options.KeyBehaviour, options.RateLimitResetMs);
        Console.WriteLine($"sse upstream on 127.0.0.1:{options.Port}, {options.Events} events {options.IntervalMs} ms apart");
        while (true)
        {
            var socket = await listener.AcceptAsync();
            socket.NoDelay = true;
            _ = ServeAsync(socket, options, keys);
        }
    }

    private static async Task ServeAsync(Socket socket, Options options, KeyBehaviours keys)
    {
        var buffer = new byte[InspectedBytes];
        byte[]? discard = null; // only a connection that carries a body longer than the buffer gets one
        var have = 0;
        try
        {
            while (true)
            {
                int headEnd;
                while ((headEnd = buffer.AsSpan(0, have).IndexOf("\r\n\r\n"u8)) < 0)
                {
                    if (have == buffer.Length)
                    {
                        return;
                    }

                    var read = await socket.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None);
                    if (read == 0)
                    {
                        return;
                    }

                    have += read;
                }

                var head = Encoding.ASCII.GetString(buffer, 0, headEnd);
                var key = HeaderString(head, "authorization") is { } authorization && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? authorization[7..].Trim() : "(none)";
                var requestId = HeaderString(head, "x-client-request-id");
                var attempt = Stats.Attempt(requestId);
                var extra = attempt > 0 ? $"x-bench-attempt: {attempt}\r\n" : "";
                if (WebSocketUpstream.IsUpgrade(head))
                {
                    // A key pool fails over at the handshake too: a refused key's upgrade gets the refusal, then the close.
                    if (keys.Refusal(key, extra + "Connection: close\r\n") is { } refused)
                    {
                        Stats.Answered(key, refused.Status, requestId);
                        await socket.SendAsync(refused.Response, SocketFlags.None);
                        return;
                    }

                    Stats.Answered(key, 101, requestId);
                    await WebSocketUpstream.ServeAsync(socket, head, options); // the connection is the WebSocket's now
                    return;
                }

                var contentLength = HeaderLong(head, "content-length");
                var close = head.Contains("\nconnection: close", StringComparison.OrdinalIgnoreCase)
                    || head.Contains(" HTTP/1.0\r\n", StringComparison.Ordinal);
                if (head.Contains("\ntransfer-encoding:", StringComparison.OrdinalIgnoreCase))
                {
                    // The proxy forwards every body with its Content-Length: a chunked one would be a finding, so it is
                    // refused here rather than decoded.
                    await socket.SendAsync(Response(411, "Length Required", "", "{}"), SocketFlags.None);
                    return;
                }

                // The body's first part stays in the buffer to be looked at; whatever does not fit is read and dropped.
                var bodyStart = headEnd + 4;
                var kept = (int)Math.Min(contentLength, buffer.Length - bodyStart);
                var total = bodyStart + kept;
                while (have < total)
                {
                    var read = await socket.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None);
                    if (read == 0)
                    {
                        return;
                    }

                    have += read;
                }

                for (var rest = contentLength - kept; rest > 0;)
                {
                    discard ??= new byte[InspectedBytes];
                    var read = await socket.ReceiveAsync(discard.AsMemory(0, (int)Math.Min(rest, discard.Length)), SocketFlags.None);
                    if (read == 0)
                    {
                        return;
                    }

                    rest -= read;
                }

                var body = buffer.AsSpan(bodyStart, kept);
                var stream = body.IndexOf("\"stream\":true"u8) >= 0;
                var fault = Marker(body, "\"fault\":\""u8);
                var shape = (Events: IntMarker(body, "\"events\":"u8) ?? options.Events,
                    IntervalMs: IntMarker(body, "\"interval_ms\":"u8) ?? options.IntervalMs);
                var delayMs = fault == "slow" ? IntMarker(body, "\"delay_ms\":"u8) ?? 2000 : 0;
                var quietMs = stream ? IntMarker(body, "\"quiet_ms\":"u8) ?? 0 : 0;
                var upload = head.StartsWith("POST /v1/files", StringComparison.Ordinal);
                buffer.AsSpan(total, have - total).CopyTo(buffer);
                have -= total;

                if (head.StartsWith("GET /__stats", StringComparison.Ordinal))
                {
                    var stats = Stats.Json(reset: head.StartsWith("GET /__stats?reset=1 ", StringComparison.Ordinal));
                    await socket.SendAsync(Response(200, "OK", close ? "Connection: close\r\n" : "", stats), SocketFlags.None);
                    if (close)
                    {
                        return;
                    }

                    continue;
                }

                if (delayMs > 0)
                {
                    await Task.Delay(delayMs);
                }

                if (keys.Refusal(key, extra) is { } refusal)
                {
                    Stats.Answered(key, refusal.Status, requestId);
                    await socket.SendAsync(refusal.Response, SocketFlags.None);
                }
                else if (fault is "429" or "500")
                {
                    Stats.Answered(key, fault == "429" ? 429 : 500, requestId);
                    await socket.SendAsync(fault == "429" ? RateLimited : ServerError, SocketFlags.None);
                }
                else if (stream)
                {
                    Stats.Answered(key, 200, requestId);
                    if (!await StreamAsync(socket, shape.Events, shape.IntervalMs, quietMs, dropMidway: fault == "drop", close, extra))
                    {
                        return; // dropped on purpose: the connection closes without the body's end
                    }
                }
                else
                {
                    Stats.Answered(key, 200, requestId);
                    var json = upload ? FileObject(contentLength) : Completion;
                    var response = Encoding.ASCII.GetBytes(
                        $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {json.Length}\r\n" +
                        (close ? "Connection: close\r\n" : "") + extra + "x-request-id: req_bench\r\n\r\n");
                    await socket.SendAsync(response.Concat(json).ToArray(), SocketFlags.None);
                }

                if (close)
                {
                    return;
                }
            }
        }
        catch (SocketException)
        {
            // The proxy went away; nothing to do.
        }
        finally
        {
            socket.Dispose();
        }
    }

    /// <summary>Sends the stream; false when it was dropped midway on purpose.</summary>
    private static async Task<bool> StreamAsync(Socket socket, int events, int intervalMs, int quietMs, bool dropMidway, bool close, string extraHeaders)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n" +
            (close ? "Connection: close\r\n" : "") + extraHeaders + "x-request-id: req_bench\r\n\r\n"), SocketFlags.None);
        if (quietMs > 0)
        {
            await Task.Delay(quietMs); // a reasoning model thinking: the status is known, no byte follows for a while
        }

        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < events; i++)
        {
            if (dropMidway && i == events / 2)
            {
                return false;
            }

            // An absolute schedule, so scheduling jitter never accumulates; the stamp is taken after the wait.
            var due = TimeSpan.FromMilliseconds((double)i * intervalMs) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due);
            }

            var stamp = Stopwatch.GetTimestamp();
            var data = "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"t\":" + stamp + ",\"i\":" + i +
                ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok" + i + " \"}}]}\n\n";
            await socket.SendAsync(Chunk(data), SocketFlags.None);
        }

        await socket.SendAsync(Chunk("data: [DONE]\n\n").Concat("0\r\n\r\n"u8.ToArray()).ToArray(), SocketFlags.None);
        return true;
    }

    private static byte[] Chunk(string data) => Encoding.ASCII.GetBytes($"{data.Length:x}\r\n{data}\r\n");

    internal static byte[] Response(int status, string reason, string headers, string json) => Encoding.ASCII.GetBytes(
        $"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {json.Length}\r\n{headers}" +
        $"x-request-id: req_bench\r\n\r\n{json}");

    private static byte[] FileObject(long bytes) => Encoding.ASCII.GetBytes(
        "{\"id\":\"file-bench\",\"object\":\"file\",\"bytes\":" + bytes + ",\"created_at\":1700000000," +
        "\"filename\":\"upload.jsonl\",\"purpose\":\"batch\",\"status\":\"processed\"}");

    private static string? Marker(ReadOnlySpan<byte> body, ReadOnlySpan<byte> key)
    {
        var at = body.IndexOf(key);
        if (at < 0)
        {
            return null;
        }

        var value = body[(at + key.Length)..];
        var end = value.IndexOf((byte)'"');
        return end < 0 ? null : Encoding.ASCII.GetString(value[..end]);
    }

    private static int? IntMarker(ReadOnlySpan<byte> body, ReadOnlySpan<byte> key)
    {
        var at = body.IndexOf(key);
        return at >= 0 && Utf8Parser.TryParse(body[(at + key.Length)..], out int value, out _) ? value : null;
    }

    private static long HeaderLong(string head, string name)
        => HeaderString(head, name) is { } value ? long.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    /// <summary>A header's value from an HTTP head (a request's, or the response the client reads), trimmed; null when it has none.</summary>
    internal static string? HeaderString(string head, string name)
    {
        var at = head.IndexOf("\n" + name + ":", StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return null;
        }

        var start = at + name.Length + 2;
        var end = head.IndexOf('\r', start);
        return head[start..(end < 0 ? head.Length : end)].Trim();
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StreamBench;

/// <summary>
/// A fake OpenAI upstream for streaming: HTTP/1.1 with keep-alive on raw sockets. A request whose body asks for
/// <c>"stream":true</c> gets server-sent events, <see cref="Options.Events"/> of them <see cref="Options.IntervalMs"/>
/// apart (the first at once), each carrying the <see cref="Stopwatch"/> timestamp taken just before it was written
/// (CLOCK_MONOTONIC in ns on Linux, the clock the client reads too), then <c>[DONE]</c>. Anything else gets a small
/// chat completion.
/// </summary>
internal static class SseUpstream
{
    private static readonly byte[] Completion = Encoding.ASCII.GetBytes(
        "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"gpt-4o-mini\"," +
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello from the fake upstream.\"}," +
        "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":7,\"total_tokens\":16}}");

    public static async Task<int> RunAsync(Options options)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, options.Port));
        listener.Listen(4096);
        Console.WriteLine($"sse upstream on 127.0.0.1:{options.Port}, {options.Events} events {options.IntervalMs} ms apart");
        while (true)
        {
            var socket = await listener.AcceptAsync();
            socket.NoDelay = true;
            _ = ServeAsync(socket, options);
        }
    }

    private static async Task ServeAsync(Socket socket, Options options)
    {
        var buffer = new byte[64 * 1024];
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
                var contentLength = HeaderInt(head, "content-length");
                var close = head.Contains("\nconnection: close", StringComparison.OrdinalIgnoreCase)
                    || head.Contains(" HTTP/1.0\r\n", StringComparison.Ordinal);
                var total = headEnd + 4 + contentLength;
                if (total > buffer.Length)
                {
                    return;
                }

                while (have < total)
                {
                    var read = await socket.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None);
                    if (read == 0)
                    {
                        return;
                    }

                    have += read;
                }

                var stream = buffer.AsSpan(headEnd + 4, contentLength).IndexOf("\"stream\":true"u8) >= 0;
                buffer.AsSpan(total, have - total).CopyTo(buffer);
                have -= total;

                if (stream)
                {
                    await StreamAsync(socket, options, close);
                }
                else
                {
                    var response = Encoding.ASCII.GetBytes(
                        $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {Completion.Length}\r\n" +
                        (close ? "Connection: close\r\n" : "") + "x-request-id: req_bench\r\n\r\n");
                    await socket.SendAsync(response.Concat(Completion).ToArray(), SocketFlags.None);
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

    private static async Task StreamAsync(Socket socket, Options options, bool close)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n" +
            (close ? "Connection: close\r\n" : "") + "x-request-id: req_bench\r\n\r\n"), SocketFlags.None);

        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < options.Events; i++)
        {
            // An absolute schedule, so scheduling jitter never accumulates; the stamp is taken after the wait.
            var due = TimeSpan.FromMilliseconds((double)i * options.IntervalMs) - Stopwatch.GetElapsedTime(start);
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
    }

    private static byte[] Chunk(string data) => Encoding.ASCII.GetBytes($"{data.Length:x}\r\n{data}\r\n");

    private static int HeaderInt(string head, string name)
    {
        var at = head.IndexOf("\n" + name + ":", StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return 0;
        }

        var start = at + name.Length + 2;
        var end = head.IndexOf('\r', start);
        return int.Parse(head.AsSpan(start, (end < 0 ? head.Length : end) - start).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

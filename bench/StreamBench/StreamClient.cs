using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StreamBench;

/// <summary>
/// Opens <see cref="Options.Streams"/> concurrent streaming chat completions (spread over <see cref="Options.RampMs"/>),
/// each asking the upstream for <see cref="Options.Events"/> events, and records, per stream, the time to first event,
/// and per event the delay between the upstream's send stamp and its arrival here. A stream that does not end with
/// <c>[DONE]</c> after every event, or any non-200, is an error. Writes one JSON object: the raw samples in microseconds, the error count and a few error messages.
/// </summary>
internal static class StreamClient
{
    public static async Task<int> RunAsync(Options options)
    {
        // The stream's length (and pace, if given) ride in the body, so the upstream sends what this client expects.
        var pace = options.RequestedIntervalMs is { } interval ? $",\"interval_ms\":{interval}" : "";
        var body = Encoding.ASCII.GetBytes(
            $"{{\"model\":\"gpt-4o-mini\",\"stream\":true,\"events\":{options.Events}{pace},\"messages\":[{{\"role\":\"user\",\"content\":\"Say hello.\"}}]}}");
        var request = Encoding.ASCII.GetBytes(
            $"POST {options.Path} HTTP/1.1\r\nHost: 127.0.0.1:{options.Port}\r\nAuthorization: Bearer {options.Token}\r\n" +
            $"Content-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: {body.Length}\r\n\r\n")
            .Concat(body).ToArray();

        var endpoint = new IPEndPoint(IPAddress.Loopback, options.Port);
        return await ConcurrentLoad.RunAsync(options, "streams", "ttfe_us",
            cancellationToken => OneStreamAsync(endpoint, request, options.Events, cancellationToken));
    }

    private static async Task<(double FirstEventUs, double[] DelaysUs)> OneStreamAsync(
        IPEndPoint endpoint, byte[] request, int events, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var sent = Stopwatch.GetTimestamp();
        await socket.ConnectAsync(endpoint, cancellationToken);
        await socket.SendAsync(request, SocketFlags.None, cancellationToken);

        var parser = new SseResponseParser(events);
        var buffer = new byte[16 * 1024];
        while (!parser.Done)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            var arrived = Stopwatch.GetTimestamp();
            if (read == 0)
            {
                throw new IOException($"connection closed after {parser.Delays.Count} of {events} events");
            }

            parser.Feed(buffer.AsSpan(0, read), arrived);
        }

        if (parser.Delays.Count != events)
        {
            throw new IOException($"[DONE] after {parser.Delays.Count} of {events} events");
        }

        return (Micros(parser.FirstArrival - sent), [.. parser.Delays]);
    }

    internal static double Micros(long stopwatchTicks) => stopwatchTicks * 1_000_000.0 / Stopwatch.Frequency;
}

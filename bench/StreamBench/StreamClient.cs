using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StreamBench;

/// <summary>
/// Opens <see cref="Options.Streams"/> concurrent streaming chat completions (spread over <see cref="Options.RampMs"/>),
/// each asking the upstream for <see cref="Options.Events"/> events, and records, per stream, the time to first event,
/// and per event the delay between the upstream's send stamp and its arrival here. A stream that does not end with
/// <c>[DONE]</c> after every event, or any non-200, is an error. Writes one JSON object: the raw samples in microseconds,
/// the error count and a few error messages, then the fields below and a summary of each (<see cref="LoadReport"/>).
/// <para>
/// Besides <c>ttfe_us</c> and <c>delay_us</c>: <c>ttfb_us</c>, per stream as <c>ttfe_us</c> (same order, both from the
/// connect's start), until the response's first byte; with <see cref="Options.RequestIds"/>, <c>attempt</c> in that order
/// too (the upstream's <c>x-bench-attempt</c>: 2 or more when a proxy failed over to serve it), and the summaries
/// <c>ttfb_first_try_ms</c> and <c>ttfb_failed_over_ms</c> split by it. With quiet streams (<see cref="Options.QuietMs"/>),
/// whose first event is late on purpose and so in neither <c>ttfe_us</c> nor <c>ttfb_us</c>: <c>quiet_streams</c>
/// (those that completed), <c>heartbeats</c> (the comment lines they got), <c>heartbeat_gap_us</c> (between consecutive
/// comments of one stream), <c>heartbeat_first_us</c> (from the connect's start to a stream's first comment) and
/// <c>quiet_max_silence_us</c> (per stream, the longest wait for a byte: connect, first byte, each comment, first event).
/// </para>
/// </summary>
internal static class StreamClient
{
    public static async Task<int> RunAsync(Options options)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, options.Port);
        var run = Guid.NewGuid().ToString("N")[..8];
        return await ConcurrentLoad.RunAsync(options, "streams", "ttfe_us",
            (i, cancellationToken) => OneStreamAsync(endpoint, Request(options, i, run), options.Events, IsQuiet(options, i), cancellationToken),
            stream => (stream.Quiet ? null : stream.FirstEventUs, stream.DelaysUs),
            (report, streams) => Report(options, report, streams));
    }

    /// <summary>The quiet ones spread evenly over the ramp: stream i when i*N/S steps up at i+1.</summary>
    private static bool IsQuiet(Options options, int i)
        => options.QuietMs > 0 && (long)(i + 1) * options.QuietStreams / options.Streams > (long)i * options.QuietStreams / options.Streams;

    private static byte[] Request(Options options, int i, string run)
    {
        // The stream's length (and pace, if given) ride in the body, so the upstream sends what this client expects.
        var pace = options.RequestedIntervalMs is { } interval ? $",\"interval_ms\":{interval}" : "";
        var quiet = IsQuiet(options, i) ? $",\"quiet_ms\":{options.QuietMs}" : "";
        var body = Encoding.ASCII.GetBytes(
            $"{{\"model\":\"gpt-4o-mini\",\"stream\":true,\"events\":{options.Events}{pace}{quiet},\"messages\":[{{\"role\":\"user\",\"content\":\"Say hello.\"}}]}}");
        var token = options.Tokens.Count > 0 ? options.Tokens[i % options.Tokens.Count] : options.Token;
        var id = options.RequestIds ? $"X-Client-Request-Id: sb-{run}-{i}\r\n" : "";
        return Encoding.ASCII.GetBytes(
            $"POST {options.Path} HTTP/1.1\r\nHost: 127.0.0.1:{options.Port}\r\nAuthorization: Bearer {token}\r\n{id}" +
            $"Content-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: {body.Length}\r\n\r\n")
            .Concat(body).ToArray();
    }

    private static async Task<StreamOutcome> OneStreamAsync(
        IPEndPoint endpoint, byte[] request, int events, bool quiet, CancellationToken cancellationToken)
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

        return new StreamOutcome(Micros(parser.FirstArrival - sent), [.. parser.Delays], Micros(parser.FirstByte - sent), parser.Attempt,
            quiet, [.. parser.Comments.Select(c => Micros(c - sent))]);
    }

    private static void Report(Options options, LoadReport report, IReadOnlyList<StreamOutcome> streams)
    {
        var loud = streams.Where(s => !s.Quiet).ToArray();
        report.Samples("ttfb_us", loud.Select(s => s.FirstByteUs));
        if (options.RequestIds)
        {
            report.Integers("attempt", loud.Select(s => s.Attempt));
            report.Summary("ttfb_first_try_ms", [.. loud.Where(s => s.Attempt == 1).Select(s => s.FirstByteUs)]);
            report.Summary("ttfb_failed_over_ms", [.. loud.Where(s => s.Attempt >= 2).Select(s => s.FirstByteUs)]);
        }

        if (options.QuietMs > 0)
        {
            var quiet = streams.Where(s => s.Quiet).ToArray();
            report.Count("quiet_streams", quiet.Length);
            report.Count("heartbeats", quiet.Sum(s => s.CommentsUs.Length));
            report.Samples("heartbeat_gap_us", quiet.SelectMany(s => s.CommentsUs.Zip(s.CommentsUs.Skip(1), (a, b) => b - a)));
            report.Samples("heartbeat_first_us", quiet.Where(s => s.CommentsUs.Length > 0).Select(s => s.CommentsUs[0]));
            report.Samples("quiet_max_silence_us", quiet.Select(s =>
            {
                double[] marks = [0, s.FirstByteUs, .. s.CommentsUs, s.FirstEventUs];
                return marks.Zip(marks.Skip(1), (a, b) => b - a).Max();
            }));
        }
    }

    internal static double Micros(long stopwatchTicks) => stopwatchTicks * 1_000_000.0 / Stopwatch.Frequency;

    /// <summary>One completed stream, its times in microseconds from the connect's start (delays: per event, from its stamp).</summary>
    private sealed record StreamOutcome(
        double FirstEventUs, double[] DelaysUs, double FirstByteUs, int Attempt, bool Quiet, double[] CommentsUs);
}

using System.Globalization;

namespace StreamBench;

/// <summary>Command-line options of both modes; every value has a default a full bench run uses.</summary>
internal sealed class Options
{
    public string Command { get; private init; } = "";
    public int Port { get; private init; }
    public string Path { get; private init; } = "/v1/chat/completions";
    public int Events { get; private init; } = 20;
    public int IntervalMs { get; private init; } = 100;

    /// <summary>The client's <c>--interval-ms</c>, asked of the upstream per request; null: the upstream's own pace.</summary>
    public int? RequestedIntervalMs { get; private init; }

    /// <summary>Concurrent streams, or the ws-client's sessions (<c>--sessions</c> there).</summary>
    public int Streams { get; private init; } = 500;

    /// <summary>The base64 audio each of the WebSocket upstream's deltas carries: 3200, 50 ms of 24 kHz 16-bit mono.</summary>
    public int FrameBytes { get; private init; } = 3200;

    public int RampMs { get; private init; } = 500;
    public int TimeoutMs { get; private init; } = 30_000;
    public string Out { get; private init; } = "-";

    /// <summary>The bearer token the client sends: a client's own key by default, a proxy access token in server-key mode.</summary>
    public string Token { get; private init; } = "sk-bench";

    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            values[args[i].TrimStart('-')] = args[i + 1];
        }

        int Int(string key, int fallback) =>
            values.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

        return new Options
        {
            Command = args.Length > 0 ? args[0] : "",
            Port = Int("port", 0),
            Path = values.GetValueOrDefault("path", "/v1/chat/completions"),
            Events = Int("events", 20),
            IntervalMs = Int("interval-ms", 100),
            RequestedIntervalMs = values.ContainsKey("interval-ms") ? Int("interval-ms", 100) : null,
            Streams = Int("sessions", Int("streams", 500)),
            FrameBytes = Int("frame-bytes", 3200),
            RampMs = Int("ramp-ms", 500),
            TimeoutMs = Int("timeout-ms", 30_000),
            Out = values.GetValueOrDefault("out", "-"),
            Token = values.GetValueOrDefault("token", "sk-bench"),
        };
    }
}

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

    /// <summary>
    /// The client's <c>--tokens t1,t2,...</c>: stream <c>i</c> sends <c>t[i mod n]</c> instead of <see cref="Token"/>, so
    /// a server-key-mode proxy sees n subjects (its static tokens are the subjects <c>static-1</c>...) and a key pool can
    /// spread them. Empty (the default): every stream sends <see cref="Token"/>.
    /// </summary>
    public IReadOnlyList<string> Tokens { get; private init; } = [];

    /// <summary>
    /// The client's <c>--quiet-ms Q</c> (default 0: none): each of <see cref="QuietStreams"/> streams asks the upstream
    /// (marker <c>"quiet_ms":Q</c>) to send its status and headers, then nothing for Q ms, then its events as usual: a
    /// reasoning model's silence, which the proxy's <c>SSE_HEARTBEAT</c> comments fill.
    /// </summary>
    public int QuietMs { get; private init; }

    /// <summary>
    /// The client's <c>--quiet-streams N</c> (default 0): how many of the <see cref="Streams"/> are quiet, spread evenly
    /// over the ramp so they run among the loud ones. Only with <see cref="QuietMs"/>.
    /// </summary>
    public int QuietStreams { get; private init; }

    /// <summary>
    /// The client's <c>--request-ids on</c> (default off): each stream sends <c>X-Client-Request-Id: sb-RUN-i</c>, which the
    /// proxy forwards on every attempt of a failover, so the upstream can count a stream's attempts and answer with
    /// <c>x-bench-attempt</c>, which the client records per stream.
    /// </summary>
    public bool RequestIds { get; private init; }

    /// <summary>
    /// The upstream's <c>--key-behaviour sk-a=429,sk-b=ok,...</c> (default none: every key gets its answer): how it answers
    /// a request whose <c>Authorization</c> bearer is that key: <c>ok</c>; <c>429</c> (or <c>rate_limit_exceeded</c>);
    /// <c>insufficient_quota</c> (a 429 too); <c>401</c> (<c>invalid_api_key</c>); <c>500</c>. See <see cref="KeyBehaviours"/>.
    /// </summary>
    public string KeyBehaviour { get; private init; } = "";

    /// <summary>
    /// The upstream's <c>--rate-limit-reset-ms R</c> (default 1000): the <c>x-ratelimit-reset-requests</c> its rate-limited
    /// keys answer with, which a key pool rests the key for (at least 1 s there).
    /// </summary>
    public int RateLimitResetMs { get; private init; } = 1000;

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
            Tokens = values.GetValueOrDefault("tokens", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            QuietMs = Int("quiet-ms", 0),
            QuietStreams = Int("quiet-streams", 0),
            RequestIds = values.GetValueOrDefault("request-ids", "off") is "on" or "true" or "1",
            KeyBehaviour = values.GetValueOrDefault("key-behaviour", ""),
            RateLimitResetMs = Int("rate-limit-reset-ms", 1000),
        };
    }
}

using System.Globalization;

namespace StreamBench;

/// <summary>
/// The upstream's answers per API key (<c>--key-behaviour sk-a=429,sk-b=ok,sk-c=insufficient_quota,sk-d=401</c>), so a
/// proxy's key pool meets a rate-limited, out-of-quota or revoked key as it would at OpenAI. A key not named, or named
/// <c>ok</c>, gets the usual answer; a WebSocket upgrade is refused the same way, then closed. The refusals are OpenAI's own shapes (status, <c>error.type</c>, <c>error.code</c>;
/// https://platform.openai.com/docs/guides/error-codes), their messages marked as the fake's:
/// <list type="bullet">
/// <item><c>429</c> (<c>rate_limit_exceeded</c>): with the <c>x-ratelimit-*</c> headers OpenAI puts on its answers
/// (https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers), <c>x-ratelimit-remaining-requests: 0</c> and
/// <c>x-ratelimit-reset-requests</c> from <c>--rate-limit-reset-ms</c> in OpenAI's Go duration format (<c>1s</c>,
/// <c>1m30s</c>). No <c>retry-after</c>: OpenAI's 429s have been seen without it
/// (https://github.com/openai/openai-node/issues/1477), and a pool then rests the key until the later reset.</item>
/// <item><c>insufficient_quota</c>: 429 with <c>"code":"insufficient_quota"</c>, no rate-limit headers.</item>
/// <item><c>401</c>: <c>invalid_api_key</c>, as for a revoked or mistyped key (the key is not echoed).</item>
/// <item><c>500</c>: a server error.</item>
/// </list>
/// </summary>
internal sealed class KeyBehaviours
{
    private static readonly string[] Known = ["ok", "429", "rate_limit_exceeded", "insufficient_quota", "401", "500"];

    private readonly Dictionary<string, string> _byKey;
    private readonly string _reset;

    private KeyBehaviours(Dictionary<string, string> byKey, int resetMs)
    {
        _byKey = byKey;
        _reset = GoDuration(resetMs);
    }

    /// <summary>Parses <c>key=behaviour</c> entries separated by commas; a malformed entry or an unknown behaviour throws.</summary>
    public static KeyBehaviours Parse(string spec, int rateLimitResetMs)
    {
        var byKey = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = entry.LastIndexOf('=');
            var behaviour = eq > 0 ? entry[(eq + 1)..] : "";
            if (!Known.Contains(behaviour))
            {
                throw new ArgumentException(
                    $"--key-behaviour entry {byKey.Count + 1}: want KEY=BEHAVIOUR, BEHAVIOUR one of {string.Join(", ", Known)}");
            }

            byKey[entry[..eq]] = behaviour == "rate_limit_exceeded" ? "429" : behaviour;
        }

        return new KeyBehaviours(byKey, rateLimitResetMs);
    }

    /// <summary>The refusal for <paramref name="key"/> (its status and whole response), or null when it gets the usual answer.</summary>
    public (int Status, byte[] Response)? Refusal(string key, string extraHeaders)
        => _byKey.GetValueOrDefault(key) switch
        {
            "429" => (429, SseUpstream.Response(429, "Too Many Requests",
                "x-ratelimit-limit-requests: 500\r\nx-ratelimit-remaining-requests: 0\r\n" +
                $"x-ratelimit-reset-requests: {_reset}\r\nx-ratelimit-limit-tokens: 200000\r\n" +
                "x-ratelimit-remaining-tokens: 199000\r\nx-ratelimit-reset-tokens: 6ms\r\n" + extraHeaders,
                "{\"error\":{\"message\":\"Rate limit reached for gpt-4o-mini in organization org-bench on requests per min (RPM): " +
                $"Limit 500, Used 500, Requested 1. Please try again in {_reset}. (fake upstream)\",\"type\":\"requests\"," +
                "\"param\":null,\"code\":\"rate_limit_exceeded\"}}")),
            "insufficient_quota" => (429, SseUpstream.Response(429, "Too Many Requests", extraHeaders,
                "{\"error\":{\"message\":\"You exceeded your current quota, please check your plan and billing details. " +
                "(fake upstream)\",\"type\":\"insufficient_quota\",\"param\":null,\"code\":\"insufficient_quota\"}}")),
            "401" => (401, SseUpstream.Response(401, "Unauthorized", extraHeaders,
                "{\"error\":{\"message\":\"Incorrect API key provided. You can find your API key at " +
                "https://platform.openai.com/account/api-keys. (fake upstream)\",\"type\":\"invalid_request_error\"," +
                "\"param\":null,\"code\":\"invalid_api_key\"}}")),
            "500" => (500, SseUpstream.Response(500, "Internal Server Error", extraHeaders, SseUpstream.ServerErrorBody)),
            _ => null,
        };

    /// <summary>A duration as OpenAI writes its resets (Go's format): <c>250ms</c>, <c>1s</c>, <c>1.5s</c>, <c>2m0s</c>.</summary>
    internal static string GoDuration(int ms)
    {
        if (ms < 1000)
        {
            return ms.ToString(CultureInfo.InvariantCulture) + "ms";
        }

        var minutes = ms / 60_000;
        var seconds = (ms % 60_000 / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + "s";
        return minutes > 0 ? minutes.ToString(CultureInfo.InvariantCulture) + "m" + seconds : seconds;
    }
}

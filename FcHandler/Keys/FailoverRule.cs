using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FcHandler.Diagnostics;
using FcHandler.Limits;
using FcHandler.Proxy;
using FcHandler.Usage;

namespace FcHandler.Keys;

/// <summary>
/// Judges an upstream answer, or a failure to get one, for the key that got it: whether another key may take the
/// request, and how long this one rests. Failover only where the answer is about the key and nothing can have been
/// charged (OpenAI refused the request before running it, or it never left); never on the client's own errors (400,
/// 404, 413, 422: another key would get the same), never on a 504, a timeout or a cut after the request was sent (OpenAI
/// may have run it). https://platform.openai.com/docs/guides/error-codes
/// </summary>
internal static class FailoverRule
{
    /// <summary>OpenAI's error bodies are a few hundred bytes; this much of one is read to tell a quota from a rate limit.</summary>
    private const int PeekBytes = 16 * 1024;

    /// <summary>The verdict on <paramref name="response"/>; for the answers whose body decides it, the body is read and given back whole.</summary>
    public static async Task<KeyVerdict> JudgeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        switch (status)
        {
            case 429:
            {
                var (code, _) = await PeekErrorAsync(response, cancellationToken).ConfigureAwait(false);
                if (code == "insufficient_quota")
                {
                    return new KeyVerdict(KeyHealth.Refused, TimeSpan.Zero, "429 insufficient_quota: the key's account is out of credit or over its budget");
                }

                var rest = RateLimitRest(response.Headers);
                return new KeyVerdict(KeyHealth.RateLimited, rest, $"429 {code ?? "rate limit"}, resets in {rest.TotalSeconds:0.###}s");
            }

            case 401:
            {
                var (code, _) = await PeekErrorAsync(response, cancellationToken).ConfigureAwait(false);
                return new KeyVerdict(KeyHealth.Refused, TimeSpan.Zero,
                    $"401 {code ?? "unauthorized"}: OpenAI does not accept the key (revoked, mistyped, or its project archived)");
            }

            case 403:
            {
                var (code, message) = await PeekErrorAsync(response, cancellationToken).ConfigureAwait(false);
                return IsAccountRefusal(code, message)
                    ? new KeyVerdict(KeyHealth.Refused, TimeSpan.Zero, $"403 {code ?? "forbidden"}: OpenAI refuses the key's account")
                    : code == RegionAdvice.RefusalCode ? KeyVerdict.Unknown : KeyVerdict.Works;
            }

            case 500 or 502 or 503:
                return new KeyVerdict(KeyHealth.Failing, TimeSpan.Zero, $"{status} from the upstream");
            case 504:
                return KeyVerdict.Unknown; // the upstream may have run the request: never again
            default:
                return KeyVerdict.Works;
        }
    }

    /// <summary>
    /// The verdict on a failed send: a failover with a short rest when the request cannot have left (the name, the
    /// connection, or a TLS handshake cut short, not a certificate the upstream will present again); null for anything
    /// else (a connect timeout, a cut once sent, the client leaving), which is no failover and no rest.
    /// </summary>
    public static KeyVerdict? ForFailure(Exception exception, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested || exception is OperationCanceledException)
        {
            return null;
        }

        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is UpstreamCertificateException)
            {
                return null;
            }
        }

        return exception is HttpRequestException
        {
            HttpRequestError: HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError,
        } failure
            ? new KeyVerdict(KeyHealth.Failing, TimeSpan.Zero, $"no connection ({failure.HttpRequestError}: {failure.Message})")
            : null;
    }

    /// <summary>
    /// A 403 about the account rather than the request: its code or message names the account, organisation or billing
    /// (a deactivated account or organisation). The region's refusal is the instance's, and a model's is the request's:
    /// neither is.
    /// </summary>
    private static bool IsAccountRefusal(string? code, string? message)
    {
        if (code == RegionAdvice.RefusalCode)
        {
            return false;
        }

        var text = (code + " " + message).ToLowerInvariant();
        return !text.Contains("model", StringComparison.Ordinal)
            && (text.Contains("account", StringComparison.Ordinal) || text.Contains("organization", StringComparison.Ordinal)
                || text.Contains("billing", StringComparison.Ordinal) || text.Contains("deactivated", StringComparison.Ordinal));
    }

    /// <summary>
    /// Until OpenAI says the limit resets: <c>retry-after-ms</c>, else <c>retry-after</c> (seconds or a date), else the
    /// later of <c>x-ratelimit-reset-requests</c> and <c>-tokens</c>; within <see cref="KeyCooldowns.RateLimitMin"/> and
    /// <see cref="KeyCooldowns.RateLimitMax"/>. https://platform.openai.com/docs/guides/rate-limits
    /// </summary>
    internal static TimeSpan RateLimitRest(HttpResponseHeaders headers)
    {
        TimeSpan? rest = null;
        if (First(headers, "retry-after-ms") is { } ms && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds))
        {
            rest = TimeSpan.FromMilliseconds(milliseconds);
        }
        else if (headers.RetryAfter is { } retryAfter)
        {
            rest = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        }
        else
        {
            var requests = GoDuration(First(headers, RateLimitHeaders.ResetRequests));
            var tokens = GoDuration(First(headers, RateLimitHeaders.ResetTokens));
            rest = requests is null ? tokens : tokens is null ? requests : (requests > tokens ? requests : tokens);
        }

        var value = rest ?? KeyCooldowns.RateLimitDefault;
        return value < KeyCooldowns.RateLimitMin ? KeyCooldowns.RateLimitMin : value > KeyCooldowns.RateLimitMax ? KeyCooldowns.RateLimitMax : value;
    }

    /// <summary>A reset as OpenAI writes it, in Go's duration format: <c>120ms</c>, <c>8.64s</c>, <c>6m0s</c>, <c>1h2m3.5s</c>.</summary>
    internal static TimeSpan? GoDuration(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        double total = 0;
        var span = text.AsSpan();
        while (!span.IsEmpty)
        {
            var digits = span.IndexOfAnyExcept("0123456789.");
            if (digits <= 0 || !double.TryParse(span[..digits], NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return null;
            }

            span = span[digits..];
            var unit = span.IndexOfAny("0123456789.");
            var name = unit < 0 ? span : span[..unit];
            total += name switch
            {
                "h" => number * 3_600_000,
                "m" => number * 60_000,
                "s" => number * 1000,
                "ms" => number,
                _ => double.NaN,
            };
            span = unit < 0 ? [] : span[unit..];
        }

        return double.IsNaN(total) ? null : TimeSpan.FromMilliseconds(total);
    }

    private static string? First(HttpResponseHeaders headers, string name)
        => headers.NonValidated.TryGetValues(name, out var values) && values.Count > 0 ? values.ToString() : null;

    /// <summary>
    /// The error's code (or type) and message, from the start of the body; the body is then replaced by one that gives
    /// the client every byte, the read ones first.
    /// </summary>
    private static async Task<(string? Code, string? Message)> PeekErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var original = response.Content;
        var stream = await original.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[PeekBytes];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
        {
            length += read;
        }

        var start = buffer[..length];
        if (length < buffer.Length)
        {
            var whole = new ByteArrayContent(start);
            foreach (var (name, values) in original.Headers.NonValidated)
            {
                whole.Headers.TryAddWithoutValidation(name, values);
            }

            response.Content = whole;
            original.Dispose();
        }
        else
        {
            response.Content = new PeekedContent(start, stream, original);
        }

        return ReadError(Decoded(start, original.Headers.ContentEncoding));
    }

    private static byte[] Decoded(byte[] body, ICollection<string> encodings)
    {
        if (encodings.Count == 0)
        {
            return body;
        }

        using var decoded = new MemoryStream();
        using var decoder = BodyDecoder.For(string.Join(',', encodings), bytes => decoded.Write(bytes));
        if (decoder is null)
        {
            return [];
        }

        decoder.Decode(body);
        return decoded.ToArray();
    }

    private static (string? Code, string? Message) ReadError(byte[] body)
    {
        var code = ErrorBodyCapture.ReadCode(body);
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String
                ? (code, message.GetString())
                : (code, null);
        }
        catch (JsonException)
        {
            return (code, null);
        }
    }
}

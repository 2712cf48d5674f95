using System.Diagnostics;
using FcHandler.Fc;
using FcHandler.Logging;
using FcHandler.Proxy;

namespace FcHandler.Keys;

/// <summary>
/// FC's initializer, in server-key mode: asks <c>GET /v1/models</c> with every key of the pool, all at once, so a key
/// OpenAI refuses (revoked, out of quota, its account refused) is found, logged and put to rest before a client's request
/// meets it, and the other keys carry on. Listing the models runs no model and sends no body
/// (https://developers.openai.com/api/reference/resources/models/methods/list). The requests go through the upstream
/// client's own invoker, so over HTTP/2 they are streams of the connection the warm-up opens (no handshake of their
/// own), and the pool's rules judge each answer (<see cref="FailoverRule"/>): a refusal rests the key for long and says
/// so loudly, a 429 rests it until its reset, a 500, 502 or 503 briefly; a working answer changes nothing (OpenAI's
/// rate limits are per model: listing models says nothing about a rest some model's 429 began). No answer says nothing
/// about the key either. With <c>LIMITS_STORE</c>, the rests other instances found are read at the same time. With one
/// key the answer is only logged: there is no other key to send its requests to. Bounded by <c>WARMUP_TIMEOUT</c>, as
/// FC freezes the instance once the initializer answers.
/// </summary>
internal sealed class KeyProbe(KeyPool pool, UpstreamClient upstream, ILogger<KeyProbe> logger) : IInstanceInitializer
{
    /// <summary>What the cooldown lines carry where a request's trace id would be.</summary>
    public const string RequestId = "initialize";

    public async Task InitializeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancellation.CancelAfter(timeout);
        var start = Stopwatch.GetTimestamp();
        var shared = ReadSharedAsync(cancellation.Token);
        var results = await Task.WhenAll(pool.Keys.Select((key, index) => ProbeAsync(index, key, cancellation.Token)));
        await shared;

        var healthy = results.Count(result => result.Healthy);
        ProxyLog.KeysProbed(logger, healthy == results.Length ? LogLevel.Information : LogLevel.Warning, healthy, results.Length,
            Math.Round(Stopwatch.GetElapsedTime(start).TotalMilliseconds, 1), string.Join(", ", results.Select(result => result.Line)));
    }

    // The rests other instances found; a store that does not answer says so in its own line (key_cooldowns_unshared).
    private async Task ReadSharedAsync(CancellationToken cancellationToken)
    {
        if (pool.Shared is { } shared)
        {
            try
            {
                await shared.RefreshAsync(pool).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private async Task<(bool Healthy, string Line)> ProbeAsync(int index, UpstreamKey key, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, upstream.DestinationPrefix + "/v1/models")
            {
                Version = upstream.PassThrough.Version ?? System.Net.HttpVersion.Version20,
                VersionPolicy = upstream.PassThrough.VersionPolicy ?? HttpVersionPolicy.RequestVersionOrLower,
            };
            request.Headers.TryAddWithoutValidation("Authorization", key.Authorization);

            // No KeyAttempt on the request: KeyPoolHandler passes it on as it is, with this key.
            using var response = await upstream.Invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var verdict = await FailoverRule.JudgeAsync(response, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (verdict.FailsOver && pool.IsPool)
            {
                pool.Report(new KeyChoice(index, key, Probe: false), verdict, RequestId);
            }

            return verdict.FailsOver
                ? (false, $"{key.Label} {verdict.Reason}")
                : (status == 200, $"{key.Label} {status}");
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            var why = exception is OperationCanceledException ? "no answer within WARMUP_TIMEOUT" : $"no answer ({exception.Message})";
            return (false, $"{key.Label} {why}");
        }
    }
}

using System.Globalization;
using FcHandler.Logging;
using FcHandler.Proxy;
using FcHandler.Proxy.WebSockets;
using FcHandler.Usage;

namespace FcHandler.Limits;

/// <summary>
/// The limits of a Realtime or Responses WebSocket session, response by response, as an HTTP request is held to them:
/// <list type="bullet">
/// <item>each client <c>response.create</c> reserves its bound (the message's bytes for its input, its
/// <c>max_output_tokens</c> or <c>LIMITS_DEFAULT_OUTPUT_TOKENS</c> for its output) in one atomic step with the store,
/// before its last byte reaches the upstream (<see cref="ClientMessageGate"/>); a refusal closes the session with 1008
/// and the message never runs. Responses running at once each hold their own reservation, and count as requests
/// (<c>rpm</c>); the session itself holds the <c>concurrency</c> place.</item>
/// <item>a response the server starts on its own (Realtime server VAD) is reserved at its <c>response.created</c>;
/// refused, the session is closed, since that response is already running.</item>
/// <item>each is settled to the usage its end event reports (<c>response.done</c>, <c>response.completed</c>, ...);
/// one still running when the session ends keeps its whole reservation, as a cut stream's does.</item>
/// </list>
/// It also tells the gate whether a message may carry input its bytes do not bound (<see cref="AllowsUnmetered"/>).
/// The limits are the model's: a <c>session.update</c> that moves the session to another model, or a Responses
/// <c>response.create</c> that names one, is counted against that model's rules.
/// </summary>
internal sealed class RealtimeBudget(
    GuardedLimitStore store, string subject, LimitSet limits, long defaultOutputTokens, ProxyExchange exchange, string requestId, ILogger logger)
    : ISessionResponses
{
    private readonly Lock _lock = new();
    private readonly Queue<Task<Lease?>> _pending = new(); // reserved by the client, not yet created upstream
    private readonly Dictionary<string, Task<Lease?>> _running = new(StringComparer.Ordinal);
    private Task _settling = Task.CompletedTask;
    private bool _ended;

    public async Task<CloseFrame?> ReserveAsync(long messageBytes, long? maxOutputTokens, string? model)
    {
        var (lease, refusal) = await TakeAsync(messageBytes, maxOutputTokens, model).ConfigureAwait(false);
        if (lease is not null)
        {
            lock (_lock)
            {
                _pending.Enqueue(Task.FromResult<Lease?>(lease));
            }
        }

        return refusal;
    }

    public bool AllowsUnmetered(string spendClass, string? model)
        => limits.AllowsUnmetered(spendClass)
            || !(model is null ? limits.Rules : limits.For(model)).Any(rule => rule.Budget is not null || rule.TokensPerMinute is not null);

    public void Created(string? responseId, string? model)
    {
        lock (_lock)
        {
            if (_pending.TryDequeue(out var reserved))
            {
                _running[responseId ?? ""] = reserved;
                return;
            }

            // Started by the server (voice activity), not by a response.create of the client's: reserved now.
            _running[responseId ?? ""] = ReserveStartedAsync(model);
        }
    }

    public void Ended(string? responseId, TokenUsage? usage)
    {
        Task<Lease?>? reserved;
        lock (_lock)
        {
            _running.Remove(responseId ?? "", out reserved);
        }

        var tokens = usage is { } reported ? LimitsMiddleware.TokensOf(reported) : (long?)null;
        Then(reserved is null
            ? ChargeAsync(tokens ?? 0) // its start was never seen: charged what it reports
            : SettleAsync(reserved, tokens));
    }

    public void Failed()
    {
        Task<Lease?>? reserved;
        lock (_lock)
        {
            _pending.TryDequeue(out reserved);
        }

        if (reserved is not null)
        {
            // Refused upstream before it started: nothing spent. (An error about another message releases one too early;
            // that response is then reserved at its response.created, as a server's own response is.)
            Then(SettleAsync(reserved, 0));
        }
    }

    /// <summary>
    /// The session has ended: waits for what is being settled, then keeps every reservation whose response never
    /// reported its end (it may have run, and nobody will report it now).
    /// </summary>
    public async Task EndAsync()
    {
        Task<Lease?>[] open;
        lock (_lock)
        {
            _ended = true;
            open = [.. _pending, .. _running.Values];
            _pending.Clear();
            _running.Clear();
        }

        foreach (var reserved in open)
        {
            Then(SettleAsync(reserved, null));
        }

        await Settled.ConfigureAwait(false);
    }

    private async Task<Lease?> ReserveStartedAsync(string? model)
    {
        var (lease, refusal) = await TakeAsync(0, null, model ?? exchange.Model).ConfigureAwait(false);
        if (refusal is not null && exchange.WebSocket is { } session)
        {
            ProxyLog.WebSocketResponseRefused(logger, refusal.Reason[..refusal.Reason.IndexOf(':')], subject, requestId);
            session.Close(WebSocketSessions.CloseGrace, refusal);
        }

        return lease;
    }

    private async Task<(Lease? Lease, CloseFrame? Refusal)> TakeAsync(long messageBytes, long? maxOutputTokens, string? model)
    {
        // Per response: the session holds the concurrency place; a response is one more request and its tokens.
        LimitRule[] rules = [.. limits.For(model).Select(rule => rule with { Concurrency = null }).Where(rule => !rule.IsEmpty)];
        if (rules.Length == 0)
        {
            return (null, null);
        }

        var estimate = Math.Min(LimitSet.MaxCount, messageBytes + (maxOutputTokens ?? defaultOutputTokens));
        var admission = new AdmissionRequest(subject, rules, estimate, ChecksBudget: true, Guid.NewGuid().ToString("N"));
        var (result, by) = await store.RunAsync((s, token) => s.AdmitAsync(admission, token), CancellationToken.None).ConfigureAwait(false);
        if (result is null || by is null)
        {
            return (null, ClientMessageGate.Refusal("limits_unavailable", "the proxy's limits store did not answer; retry shortly"));
        }

        if (!result.Admitted)
        {
            ProxyLog.LimitReached(logger, result.Verdict.ToString(), subject, LimitsMiddleware.Detail(result, estimate), requestId);
            return (null, Refusal(result, estimate));
        }

        lock (_lock)
        {
            if (_ended)
            {
                // The session ended while this was being reserved: nothing will run, nothing is kept.
                _ = store.TryOnAsync(by, (s, token) => s.SettleAsync(new Lease(admission, result.WindowSecond, result.Periods, by), 0, token), default);
                return (null, null);
            }
        }

        return (new Lease(admission, result.WindowSecond, result.Periods, by), null);
    }

    private static CloseFrame Refusal(AdmissionResult result, long estimate) => result.Verdict switch
    {
        Verdict.BudgetExhausted => ClientMessageGate.Refusal("insufficient_quota",
            $"this response reserves {Count(estimate)} tokens; the token budget has {Count(Math.Max(0, result.Budget?.Left ?? 0))} left"),
        Verdict.TokensNeverFit => ClientMessageGate.Refusal("rate_limit_exceeded",
            $"this response reserves {Count(estimate)} tokens, more than the tokens per minute limit; set a lower max_output_tokens"),
        Verdict.TokensExceeded => ClientMessageGate.Refusal("rate_limit_exceeded",
            $"tokens per minute; this response reserves {Count(estimate)}; retry in {Seconds(result.RetryAfterMs)}"),
        Verdict.RequestsExceeded => ClientMessageGate.Refusal("rate_limit_exceeded", $"requests per minute; retry in {Seconds(result.RetryAfterMs)}"),
        Verdict.BudgetHeld => ClientMessageGate.Refusal("rate_limit_exceeded",
            $"this response reserves {Count(estimate)} tokens; the token budget's room is held by responses still running; retry when one has ended"),
        _ => ClientMessageGate.Refusal("rate_limit_exceeded", $"limit reached ({result.Verdict}); retry in {Seconds(result.RetryAfterMs)}"),
    };

    private async Task SettleAsync(Task<Lease?> reserved, long? actualTokens)
    {
        if (await reserved.ConfigureAwait(false) is { } lease)
        {
            await store.TryOnAsync(lease.Store, (s, token) => s.SettleAsync(lease, actualTokens, token), default).ConfigureAwait(false);
        }
    }

    private async Task ChargeAsync(long tokens)
    {
        LimitRule[] rules = limits.For(exchange.Model);
        if (tokens > 0 && rules.Length > 0)
        {
            await store.RunAsync((s, token) => s.ChargeAsync(subject, rules, tokens, token), CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Completes once every settle queued so far has been made (or has failed).</summary>
    public Task Settled
    {
        get
        {
            lock (_lock)
            {
                return _settling;
            }
        }
    }

    // Settles run in order, off the relay's path; a failed one leaves its reservation kept (the worst it can do).
    private void Then(Task next)
    {
        lock (_lock)
        {
            _settling = AfterAsync(_settling, next);
        }
    }

    private static async Task AfterAsync(Task previous, Task next)
    {
        await previous.ConfigureAwait(false);
        try
        {
            await next.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // The store failed: the reservation stays spent, and its lease (without concurrency) holds nothing else.
        }
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Seconds(long milliseconds) => (milliseconds / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + "s";
}

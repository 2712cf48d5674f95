using FcHandler.Logging;
using FcHandler.Proxy;
using FcHandler.Proxy.WebSockets;
using FcHandler.Usage;

namespace FcHandler.Limits;

/// <summary>
/// A Realtime session's tokens, charged as each response ends: the relay reports every <c>response.done</c>'s usage,
/// which is charged to the subject's budget and token window in order, off the relay's path. When a charge leaves the
/// subject's budget used up (by this session or anything else of the subject's), the session is closed with 1008 and a
/// reason that says so, after the response that just ended and before another begins. A session can overrun the budget
/// by the one response it was in when the budget ran out; nothing is reserved in advance for a conversation.
/// </summary>
internal sealed class RealtimeBudget(GuardedLimitStore store, string subject, LimitRule[] rules, ProxyExchange exchange, string requestId, ILogger logger)
{
    /// <summary>The close both sides get: the code says policy, the reason says which.</summary>
    public static readonly CloseFrame OutOfBudget = new(CloseFrame.PolicyViolationCode, "insufficient_quota: the token budget on this proxy is used up");

    private readonly Lock _lock = new();
    private Task _charges = Task.CompletedTask;

    /// <summary>Called on the relay's write for each response's usage: queues the charge and returns.</summary>
    public void ResponseDone(TokenUsage usage)
    {
        var tokens = LimitsMiddleware.TokensOf(usage);
        if (tokens <= 0)
        {
            return;
        }

        lock (_lock)
        {
            _charges = ChargeAfterAsync(_charges, tokens);
        }
    }

    /// <summary>Completes once every charge queued so far has been made (or has failed).</summary>
    public Task Charged
    {
        get
        {
            lock (_lock)
            {
                return _charges;
            }
        }
    }

    private async Task ChargeAfterAsync(Task previous, long tokens)
    {
        await previous.ConfigureAwait(false);
        var (left, _) = await store.RunAsync((s, token) => s.ChargeAsync(subject, rules, tokens, token), CancellationToken.None).ConfigureAwait(false);
        if (left is { Left: <= 0 } budget && exchange.WebSocket is { } session)
        {
            ProxyLog.RealtimeBudgetClosed(logger, subject, budget.Limit - budget.Left, budget.Limit, requestId);
            session.Close(WebSocketSessions.CloseGrace, OutOfBudget);
        }
    }
}

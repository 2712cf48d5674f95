using FcHandler.Access;
using FcHandler.Errors;
using FcHandler.Logging;
using FcHandler.Proxy;
using FcHandler.Proxy.WebSockets;
using FcHandler.Usage;

namespace FcHandler.Limits;

/// <summary>
/// After admission, before anything is forwarded: holds a request to its subject's limits. It finds the subject (the
/// token's, or <c>key-...</c> for a client's own key) and its limits (the token's claim, else <c>LIMITS_BY_SUBJECT</c>,
/// else <c>LIMITS_DEFAULT</c>), bounds what the request can cost (<see cref="RequestCost"/>), and asks the store in one
/// atomic step to admit it and reserve that bound. A refusal is answered here and reaches nobody upstream. An admitted
/// request is settled when its response is complete, before the response ends (<see cref="ProxyExchange.Settlement"/>):
/// its lease released and its reservation corrected to the usage OpenAI reported. With a shared store, a signed token
/// is also checked against the ids revoked through it, in the same round trip. Without limits for the subject, none of
/// this runs and no store is touched.
/// </summary>
internal sealed class LimitsMiddleware(
    RequestDelegate next, LimitsOptions options, GuardedLimitStore store, RevocationList revocations, TimeProvider time, ILogger<LimitsMiddleware> logger)
{
    /// <summary>Ephemeral keys all share one subject: only <c>LIMITS_BY_SUBJECT</c> may limit it, never the default.</summary>
    private const string EphemeralSubject = "ephemeral";

    public Task InvokeAsync(HttpContext context)
    {
        var exchange = context.Features.Get<ProxyExchange>();
        return exchange?.Route is RouteClass.Generation or RouteClass.PassThrough or RouteClass.Realtime
            ? LimitAsync(context, exchange)
            : next(context);
    }

    private async Task LimitAsync(HttpContext context, ProxyExchange exchange)
    {
        var request = context.Request;
        var grant = context.Features.Get<AccessGrant>();

        // 1. A signed token revoked through the store: its check starts now and travels with the admission below.
        var revoked = grant?.TokenId is { } tokenId && revocations.Enabled ? revocations.IsRevokedAsync(tokenId, context.RequestAborted) : null;

        // 2. Whose limits, and which apply to this request (the subject's own, and its model's). Where a model has limits
        //    of its own, a body that names two models cannot choose the one it is counted against.
        var (subject, limits) = SubjectOf(grant, request);
        if (limits is not null && limits.Rules.Any(rule => rule.Model is not null) && await ModelAmbiguityAsync(context, exchange, grant) is { } ambiguous)
        {
            ProxyLog.AccessDenied(logger, ambiguous.Code, context.TraceIdentifier);
            await ErrorWriter.WriteAsync(context, ambiguous);
            return;
        }

        var rules = limits is { IsNone: false } ? limits.For(exchange.Model) : [];
        if (rules.Length == 0)
        {
            if (revoked is null || await revoked is false)
            {
                await next(context);
                return;
            }

            await DenyRevokedAsync(context, await revoked);
            return;
        }

        exchange.Subject ??= subject;

        // 3. What the request can cost. A budget holds only if the model cannot write past the reservation: a chat or
        //    Responses request without an output cap gets the default one.
        var webSocket = WebSocketForwarder.IsRequested(request);
        var (spend, spendClass) = webSocket ? (SpendKind.Metered, null) : SpendTable.Of(request.Method, request.Path.Value ?? "/");
        var spends = spend != SpendKind.Free; // any write but the few that run no model; a WebSocket
        var budgeted = spends && rules.Any(rule => rule.Budget is not null);
        var counted = budgeted || rules.Any(rule => rule.TokensPerMinute is not null);
        if (webSocket && counted && !WebSocketForwarder.IsMetered(request.Path))
        {
            // Only the Realtime and Responses WebSockets end their responses with usage the relay reads (RealtimeBudget).
            await RefuseAsync(context, subject!, ProxyError.WebSocketNotMetered());
            return;
        }

        if (spend == SpendKind.Free && SpendTable.IsRead(request.Method) && HasBody(request) && rules.Any(rule => rule.Budget is not null || rule.TokensPerMinute is not null))
        {
            await RefuseAsync(context, subject!, ProxyError.BodyOnARead(request.Method));
            return;
        }

        if (counted && spend == SpendKind.Unmetered && !limits!.AllowsUnmetered(spendClass!))
        {
            await RefuseAsync(context, subject!, ProxyError.RouteNotMetered(request.Method, request.Path.Value ?? "/", spendClass!));
            return;
        }

        var bound = spend == SpendKind.Metered && !webSocket // every write to a metered path, not only a POST
            ? await RequestCost.ReadAsync(request, options.DefaultOutputTokens, meter: counted, enforceCap: budgeted, context.RequestAborted)
            : default;
        if (bound.Refusal is { } refusal)
        {
            await RefuseAsync(context, subject!, refusal);
            return;
        }

        // Input the body only refers to, and tools OpenAI runs itself, are not bounded by the body: refused unless allowed.
        if (counted && spend == SpendKind.Metered && !webSocket
            && await UnboundedInputScan.FindAsync(request, context.RequestAborted) is var (inputClass, what) && !limits!.AllowsUnmetered(inputClass))
        {
            await RefuseAsync(context, subject!, ProxyError.InputNotMetered(what, inputClass));
            return;
        }

        // 4. One atomic step: admitted and reserved, or refused with nothing changed.
        var admission = new AdmissionRequest(subject!, rules, bound.Estimate, spends, Guid.NewGuid().ToString("N"));
        var admitting = store.RunAsync((s, token) => s.AdmitAsync(admission, token), context.RequestAborted);
        if (revoked is not null && await revoked is not false)
        {
            var (taken, by) = await admitting;
            if (taken is { Admitted: true } && by is not null)
            {
                await store.TryOnAsync(by, (s, token) => s.SettleAsync(new Lease(admission, taken.WindowSecond, taken.Periods, by), 0, token), default);
            }

            await DenyRevokedAsync(context, await revoked);
            return;
        }

        var (result, admittedBy) = await admitting;
        if (result is { Admitted: false } && options.FitCap)
        {
            (result, admittedBy, admission, bound) = await FitToBudgetAsync(context, result!, admittedBy!, admission, bound);
        }

        if (result is null || admittedBy is null)
        {
            await ErrorWriter.WriteAsync(context, ProxyError.LimitsUnavailable());
            return;
        }

        if (!result.Admitted)
        {
            ProxyLog.LimitReached(logger, result.Verdict.ToString(), subject!, Detail(result, bound.Estimate), context.TraceIdentifier);
            await ErrorWriter.WriteAsync(context, LimitRefusal.For(result, subject!, bound.Estimate));
            return;
        }

        // 5. Admitted: the client sees its windows, the lease stays alive while the request runs, and the request is
        //    settled before its response ends.
        var lease = new Lease(admission, result.WindowSecond, result.Periods, admittedBy);
        if (result.Requests is not null || result.Tokens is not null)
        {
            context.Response.OnStarting(() =>
            {
                RateLimitHeaders.Merge(context.Response.Headers, result.Requests, result.Tokens);
                return Task.CompletedTask;
            });
        }

        var renewal = lease.NeedsRenewal ? time.CreateTimer(_ => Renew(lease), null, LimitStores.RenewEvery, LimitStores.RenewEvery) : null;
        RealtimeBudget? realtime = null;
        if (webSocket && (counted || limits!.Rules.Any(rule => rule.Model is not null)))
        {
            realtime = new RealtimeBudget(store, subject!, limits!, options.DefaultOutputTokens, exchange, context.TraceIdentifier, logger);
            exchange.SessionResponses = realtime;
        }

        exchange.UsageRequired |= counted;
        exchange.Settlement = () => SettleAsync(context, exchange, lease, bound, renewal, realtime);
        await next(context);
    }

    // Beyond the peers (FittedCap): a request refused for the cap the proxy gave it, when its budget is spent but for
    // less than that cap, is admitted once more with a cap that fits what is left; that one atomic admission's answer is
    // the answer, a refusal included (others may have taken the room meanwhile). Where a fitting cap would fit once the
    // reservations in flight settle, the request is told to wait for them, not that the budget is spent.
    private async Task<(AdmissionResult?, ILimitStore?, AdmissionRequest, RequestCost.Bound)> FitToBudgetAsync(
        HttpContext context, AdmissionResult result, ILimitStore by, AdmissionRequest admission, RequestCost.Bound bound)
    {
        if (result.Verdict != Verdict.BudgetExhausted || result.Budget is not { } budget)
        {
            return (result, by, admission, bound);
        }

        if (FittedCap.Fitting(bound, budget.Left) is not { } cap)
        {
            return FittedCap.Fitting(bound, budget.Left + budget.InFlight) is null
                ? (result, by, admission, bound)
                : (result with { Verdict = Verdict.BudgetHeld, RetryAfterMs = LimitStores.HeldRetryMs }, by, admission, bound);
        }

        if (await FittedCap.ApplyAsync(context.Request, bound, cap, context.RequestAborted) is not { } fitted)
        {
            return (result, by, admission, bound);
        }

        ProxyLog.LimitsCapFitted(logger, admission.Subject, budget.Left, cap, context.TraceIdentifier);
        var again = admission with { Estimate = fitted.Estimate };
        var (retried, retriedBy) = await store.RunAsync((s, token) => s.AdmitAsync(again, token), context.RequestAborted);
        return (retried, retriedBy, again, fitted);
    }

    // Admission read the body up to its first model; a model-scoped token already had it read whole. A body that could
    // be read as naming two models is the client's error (400), said as such: OpenAI would take the last one.
    private static async Task<ProxyError?> ModelAmbiguityAsync(HttpContext context, ProxyExchange exchange, AccessGrant? grant)
    {
        if (grant is { HasModelScope: true } || exchange.Route is not (RouteClass.Generation or RouteClass.Realtime)
            || WebSocketForwarder.IsRequested(context.Request))
        {
            return null;
        }

        var read = await ModelReader.ReadNamedAsync(context.Request, context.RequestAborted, exchange.Route == RouteClass.Realtime, strict: true);
        exchange.Model = read.Model ?? exchange.Model;
        return read switch
        {
            { Ambiguity: { } ambiguity } => ProxyError.AmbiguousMultipart(ambiguity),
            { Outcome: ModelReader.Outcome.Unreadable } => ProxyError.AmbiguousBody("model", "is not given once as one value the proxy can read"),
            _ => null,
        };
    }

    private (string? Subject, LimitSet? Limits) SubjectOf(AccessGrant? grant, HttpRequest request)
    {
        if (grant is not null)
        {
            return grant == AccessGrant.EphemeralKey
                ? (EphemeralSubject, options.BySubject.GetValueOrDefault(EphemeralSubject))
                : (grant.Subject, grant.Limits ?? options.For(grant.Subject));
        }

        // No server key: the client's own key names it. With no limit configured there is nothing to count.
        if (!options.AnyConfigured || KeySubject.Of(request) is not { } subject)
        {
            return (null, null);
        }

        return (subject, options.For(subject));
    }

    private async Task SettleAsync(HttpContext context, ProxyExchange exchange, Lease lease, RequestCost.Bound bound, ITimer? renewal, RealtimeBudget? realtime)
    {
        try
        {
            if (renewal is not null)
            {
                await renewal.DisposeAsync();
            }

            if (realtime is not null)
            {
                await realtime.EndAsync();
            }

            var actual = Actual(context, exchange, bound);
            if (!await store.TryOnAsync(lease.Store, (s, token) => s.SettleAsync(lease, actual, token), default))
            {
                SettleFailed(context, lease, "the store did not answer");
            }
        }
        catch (Exception exception)
        {
            // Settling must never fail the response: the worst it leaves is a reservation kept and a lease to lapse.
            SettleFailed(context, lease, exception.GetType().Name);
        }
    }

    private void SettleFailed(HttpContext context, Lease lease, string reason)
    {
        if (store.ShouldLogSettleFailure(out var heldBack))
        {
            ProxyLog.LimitsSettleFailed(logger, lease.Subject, reason, LimitStores.LeaseTtl.TotalSeconds, heldBack, context.TraceIdentifier);
        }
    }

    // What the request spent, as far as the proxy can tell: 0 when nothing was generated, the usage OpenAI reported, or
    // null (keep the reservation) when something may have been generated that nobody reported.
    private static long? Actual(HttpContext context, ProxyExchange exchange, RequestCost.Bound bound)
    {
        if (exchange.WebSocket is not null || bound.Estimate == 0)
        {
            return 0; // a session's responses were reserved and settled one by one; the session itself reserved nothing
        }

        if (exchange.UpstreamStatus is not { } status || status >= 400)
        {
            return 0; // it never reached OpenAI, or OpenAI refused it: nothing billed
        }

        // Usage is read only where OpenAI puts it (UsagePlaces): a "usage" the answer echoes from the request (a tool
        // schema, metadata) is never it. Where there is none (a background request's first answer, a cut stream), or
        // what is there is not one clear count, the reservation is kept.
        if (exchange.UsageUnreadable)
        {
            return null;
        }

        if (exchange.Usage is { } usage && TokensOf(usage) is > 0 and var tokens)
        {
            return tokens;
        }

        var complete = !context.RequestAborted.IsCancellationRequested && !exchange.ClientGone && exchange.ErrorCode is null;
        return bound.RunsInBackground || !complete || bound.ReportsUsage ? null : 0;
    }

    /// <summary>The tokens a usage counts against a budget: its total, else input plus output (audio seconds are not tokens).</summary>
    public static long TokensOf(TokenUsage usage) => usage.TotalTokens ?? ((usage.InputTokens ?? 0) + (usage.OutputTokens ?? 0));

    private void Renew(Lease lease) => _ = store.TryOnAsync(lease.Store, (s, token) => s.RenewAsync(lease, token), default);

    // Free is decided by method and path alone: a GET, HEAD, DELETE or OPTIONS that carries a body is not a read the
    // table knows. Chunked bodies were buffered by admission, which set their length.
    private static bool HasBody(HttpRequest request)
        => request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);

    private Task RefuseAsync(HttpContext context, string subject, ProxyError error)
    {
        ProxyLog.LimitRefusedUnbounded(logger, error.Code, subject, context.TraceIdentifier);
        return ErrorWriter.WriteAsync(context, error);
    }

    private Task DenyRevokedAsync(HttpContext context, bool? revoked)
    {
        var error = revoked is null ? ProxyError.LimitsUnavailable() : ProxyError.AccessTokenRevoked();
        ProxyLog.AccessDenied(logger, error.Code, context.TraceIdentifier);
        return ErrorWriter.WriteAsync(context, error);
    }

    internal static string Detail(AdmissionResult result, long estimate) => result.Verdict switch
    {
        Verdict.BudgetExhausted or Verdict.BudgetHeld when result.Budget is { } budget
            => $"budget {budget.Limit}, left {Math.Max(0, budget.Left)}, in flight {budget.InFlight}, reserving {estimate}",
        Verdict.TokensExceeded or Verdict.TokensNeverFit when result.Tokens is { } tokens => $"tpm {tokens.Limit}, remaining {tokens.Remaining}, reserving {estimate}",
        Verdict.RequestsExceeded when result.Requests is { } requests => $"rpm {requests.Limit}, retry in {result.RetryAfterMs} ms",
        _ => $"rule {result.RefusedBy?.Scope ?? "all"}",
    };
}

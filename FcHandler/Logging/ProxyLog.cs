using Yarp.ReverseProxy.Forwarder;

namespace FcHandler.Logging;

/// <summary>
/// Every log line the proxy writes, source-generated. None takes a header value, a body or a setting's value:
/// secrets cannot reach a log line through here.
/// </summary>
internal static partial class ProxyLog
{
    /// <summary>The access line's event id: in JSON it carries its fields only, no message text.</summary>
    public const int AccessEventId = 1;

    // The parameters' names are the JSON fields' names (snake_case): docs/logs-and-usage.md.
    [LoggerMessage(AccessEventId, LogLevel.Information,
        "{Method} {Path} {Route} {Status} upstream={UpstreamStatus} upstream_ttfb={UpstreamTtfbMs}ms total={TotalMs}ms in={BytesIn}B out={BytesOut}B subject={Subject} key={Key} keys_tried={KeysTried} model={Model} usage={Usage} error={ErrorCode} request_id={RequestId}",
        EventName = "Access")]
    public static partial void Access(
        ILogger logger, string method, LogValue path, string route, int status, LogValue upstreamStatus, LogValue upstreamTtfbMs,
        LogValue totalMs, long bytesIn, long bytesOut, LogValue subject, LogValue key, LogValue keysTried, LogValue model, UsageLogValue usage,
        LogValue errorCode, string requestId);

    [LoggerMessage(2, LogLevel.Warning,
        "Forwarding failed: {Error} ({ExceptionType}: {ExceptionMessage}) request_id={RequestId}",
        EventName = "ForwardFailed")]
    public static partial void ForwardFailed(
        ILogger logger, ForwarderError error, string exceptionType, string exceptionMessage, string requestId);

    [LoggerMessage(3, LogLevel.Error, "Unhandled failure ({ExceptionType}) request_id={RequestId}", EventName = "Unhandled")]
    public static partial void Unhandled(ILogger logger, string exceptionType, string requestId, Exception exception);

    [LoggerMessage(4, LogLevel.Information, "Proxy listening on {Address}, forwarding /v1 to {Upstream}", EventName = "Listening")]
    public static partial void Listening(ILogger logger, string address, string upstream);

    // Access control (FcHandler/Access/), ids from 10 so other additions can take 5-9. Codes and counts only: never a
    // token, a key or the secret.
    [LoggerMessage(10, LogLevel.Information, "Access denied: {Code} request_id={RequestId}", EventName = "AccessDenied")]
    public static partial void AccessDenied(ILogger logger, string code, string requestId);

    [LoggerMessage(11, LogLevel.Information,
        "Access control on: the OpenAI keys of {KeySetting} ({KeyCount}) stay server-side; clients need a token ({StaticTokens} static, signed tokens {SignedTokens}, {RevokedIds} revoked ids)",
        EventName = "ServerKeyMode")]
    public static partial void ServerKeyMode(ILogger logger, string keySetting, int keyCount, int staticTokens, string signedTokens, int revokedIds);

    [LoggerMessage(12, LogLevel.Information, "Access control off: clients send their own OpenAI keys (set OPENAI_API_KEY to keep one server-side)",
        EventName = "PassThroughKeyMode")]
    public static partial void PassThroughKeyMode(ILogger logger);

    // FC's log markers: printed bare (see FcConsoleFormatter), as FC's own runtimes print them, so FC's console can
    // group an invocation's lines. https://help.aliyun.com/en/functioncompute/fc-2-0/user-guide/custom-runtime-specification-details
    public static bool IsFcMarker(EventId eventId) => eventId.Id is >= 20 and <= 23;

    [LoggerMessage(20, LogLevel.Information, "FC Invoke Start RequestId: {RequestId}", EventName = "FcInvokeStart")]
    public static partial void InvokeStart(ILogger logger, string requestId);

    [LoggerMessage(21, LogLevel.Information, "FC Invoke End RequestId: {RequestId}", EventName = "FcInvokeEnd")]
    public static partial void InvokeEnd(ILogger logger, string requestId);

    [LoggerMessage(22, LogLevel.Information, "FC Initialize Start RequestId: {RequestId}", EventName = "FcInitializeStart")]
    public static partial void InitializeStart(ILogger logger, string requestId);

    [LoggerMessage(23, LogLevel.Information, "FC Initialize End RequestId: {RequestId}", EventName = "FcInitializeEnd")]
    public static partial void InitializeEnd(ILogger logger, string requestId);

    [LoggerMessage(24, LogLevel.Information, "Upstream connection warmed (HEAD answered {Status})", EventName = "WarmupDone")]
    public static partial void WarmupDone(ILogger logger, int status);

    [LoggerMessage(25, LogLevel.Warning, "Upstream warm-up failed, the first request will connect itself: {ExceptionType}: {ExceptionMessage}", EventName = "WarmupFailed")]
    public static partial void WarmupFailed(ILogger logger, string exceptionType, string exceptionMessage);

    [LoggerMessage(26, LogLevel.Information, "Pre-stop: taking no new requests, waiting for {InFlight} in flight", EventName = "PreStopDraining")]
    public static partial void PreStopDraining(ILogger logger, int inFlight);

    [LoggerMessage(27, LogLevel.Information, "Pre-stop: done, {Remaining} requests still running", EventName = "PreStopDone")]
    public static partial void PreStopDone(ILogger logger, int remaining);

    // WebSockets (FcHandler/Proxy/WebSockets/), ids 30-39.
    [LoggerMessage(30, LogLevel.Information,
        "{Method} {Path} {Route} {Status} websocket upstream_ttfb={UpstreamTtfbMs}ms duration={DurationMs}ms in={BytesIn}B out={BytesOut}B closed_by={ClosedBy} client_close={ClientClose} upstream_close={UpstreamClose} subject={Subject} key={Key} keys_tried={KeysTried} model={Model} usage={Usage} request_id={RequestId}",
        EventName = "WebSocketAccess")]
    public static partial void WebSocketAccess(
        ILogger logger, string method, LogValue path, string route, int status, LogValue upstreamTtfbMs, LogValue durationMs,
        long bytesIn, long bytesOut, string closedBy, LogValue clientClose, LogValue upstreamClose, LogValue subject, LogValue key,
        LogValue keysTried, LogValue model, UsageLogValue usage, string requestId);

    [LoggerMessage(31, LogLevel.Information, "Pre-stop: closing {Count} WebSockets with 1001 (going away)", EventName = "PreStopClosingWebSockets")]
    public static partial void PreStopClosingWebSockets(ILogger logger, int count);

    // The proxy's own faults (temporary storage, upstream faults, SIGTERM), ids 40-49: one line per fault, with its
    // reason and never a stack trace.
    [LoggerMessage(40, LogLevel.Warning,
        "Request body refused with 503: {BodyBytes} bytes do not fit in the temporary storage left ({FreeBytes} of {BudgetBytes} bytes, TEMP_STORAGE_MB) request_id={RequestId}",
        EventName = "TempStorageExhausted")]
    public static partial void TempStorageExhausted(ILogger logger, long bodyBytes, long freeBytes, long budgetBytes, string requestId);

    [LoggerMessage(41, LogLevel.Warning,
        "Request body refused with 503: writing it to {Directory} failed ({ExceptionType}: {ExceptionMessage}) request_id={RequestId}",
        EventName = "TempStorageFailed")]
    public static partial void TempStorageFailed(ILogger logger, string directory, string exceptionType, string exceptionMessage, string requestId);

    [LoggerMessage(42, LogLevel.Warning, "Upstream fault {Code} {Stage} after {Attempts} attempt(s): {Reason} request_id={RequestId}",
        EventName = "UpstreamFault")]
    public static partial void UpstreamFault(ILogger logger, string code, string stage, int attempts, string reason, string requestId);

    [LoggerMessage(43, LogLevel.Information, "Upstream fault {Code} before the request left, retried once and answered: {Reason} request_id={RequestId}",
        EventName = "UpstreamRetried")]
    public static partial void UpstreamRetried(ILogger logger, string code, string reason, string requestId);

    [LoggerMessage(44, LogLevel.Information, "Stopping: taking no new requests, waiting up to {TimeoutSeconds}s for {InFlight} in flight",
        EventName = "StopDraining")]
    public static partial void StopDraining(ILogger logger, int inFlight, double timeoutSeconds);

    [LoggerMessage(45, LogLevel.Information, "Stopping: done waiting, {Remaining} requests still running are cut", EventName = "StopDrained")]
    public static partial void StopDrained(ILogger logger, int remaining);

    [LoggerMessage(46, LogLevel.Information, "Stopping: closing {Count} WebSockets with 1001 (going away)", EventName = "StopClosingWebSockets")]
    public static partial void StopClosingWebSockets(ILogger logger, int count);

    // Usage, diagnostics and the doctor's checks (FcHandler/Usage/, FcHandler/Diagnostics/): ids 50-69.
    [LoggerMessage(50, LogLevel.Warning,
        "OpenAI refused a request because of where it came from (403 unsupported_country_region_territory): {Advice} "
        + "Clients get OpenAI's answer unchanged; this warning is logged once per instance. request_id={RequestId}",
        EventName = "RegionRefused")]
    public static partial void RegionRefused(ILogger logger, string advice, string requestId);

    // FC's initializer: the doctor's connection check, without a key (no API call).
    [LoggerMessage(51, LogLevel.Information,
        "Upstream check passed: {Upstream} dns={DnsMs}ms ({Addresses}) connect={ConnectMs}ms tls={TlsMs}ms {Tls}",
        EventName = "UpstreamChecked")]
    public static partial void UpstreamChecked(
        ILogger logger, string upstream, LogValue dnsMs, string addresses, LogValue connectMs, LogValue tlsMs, string tls);

    [LoggerMessage(52, LogLevel.Warning, "Upstream check failed at {Step}: {Reason}", EventName = "UpstreamCheckFailed")]
    public static partial void UpstreamCheckFailed(ILogger logger, string step, string reason);

    // The instance as the runtime sees it, ids from 70.
    [LoggerMessage(70, LogLevel.Information, "Instance: {Processors} processor(s), GC heap limit {HeapLimitMb} MB", EventName = "Instance")]
    public static partial void Instance(ILogger logger, int processors, long heapLimitMb);

    [LoggerMessage(71, LogLevel.Information,
        "Idle for {IdleSeconds}s: heap compacted from {BeforeMb} MB committed to {AfterMb} MB in {ElapsedMs} ms (IDLE_TRIM_AFTER)",
        EventName = "IdleTrimmed")]
    public static partial void IdleTrimmed(ILogger logger, double idleSeconds, double beforeMb, double afterMb, double elapsedMs);

    // Header rules (FcHandler/Proxy/HeaderRules.cs), ids from 80. Header names only, as the operator listed them.
    [LoggerMessage(80, LogLevel.Information, "Also forwarding the request headers {Headers} (PROXY_FORWARD_HEADERS)", EventName = "ForwardHeaders")]
    public static partial void ForwardHeaders(ILogger logger, string headers);

    // Rate limits and budgets (FcHandler/Limits/), ids from 90. Subjects, limits and counts; never a token, a key or the
    // store's password (its address is logged without it).
    [LoggerMessage(90, LogLevel.Information,
        "Limits: {Configured}; store {Store}, on failure {FailureMode} after {TimeoutMs} ms",
        EventName = "LimitsConfigured")]
    public static partial void LimitsConfigured(ILogger logger, string configured, string store, string failureMode, double timeoutMs);

    [LoggerMessage(91, LogLevel.Information,
        "Limit reached: {Limit} for subject={Subject} ({Detail}) request_id={RequestId}",
        EventName = "LimitReached")]
    public static partial void LimitReached(ILogger logger, string limit, string subject, string detail, string requestId);

    [LoggerMessage(120, LogLevel.Information,
        "Limits refused an unbounded request: {Code} for subject={Subject} request_id={RequestId}",
        EventName = "LimitRefusedUnbounded")]
    public static partial void LimitRefusedUnbounded(ILogger logger, string code, string subject, string requestId);

    [LoggerMessage(92, LogLevel.Warning,
        "Limits store {Store} unavailable ({Reason}): {Consequence}. Logged once a minute per instance at most; {HeldBack} more call(s) went without an answer since the last such line.",
        EventName = "LimitsStoreUnavailable")]
    public static partial void LimitsStoreUnavailable(ILogger logger, string store, string reason, long heldBack, string consequence);

    [LoggerMessage(93, LogLevel.Information, "Limits store {Store} answering again after {Seconds}s", EventName = "LimitsStoreRestored")]
    public static partial void LimitsStoreRestored(ILogger logger, string store, double seconds);

    [LoggerMessage(94, LogLevel.Information, "Limits store {Store} connected in {ElapsedMs} ms", EventName = "LimitsStoreConnected")]
    public static partial void LimitsStoreConnected(ILogger logger, string store, double elapsedMs);

    [LoggerMessage(95, LogLevel.Error,
        "Limits store {Store} cannot run the limits: {Reason}. Every decision follows LIMITS_STORE_FAILURE until this is fixed.",
        EventName = "LimitsStoreUnusable")]
    public static partial void LimitsStoreUnusable(ILogger logger, string store, string reason);

    [LoggerMessage(96, LogLevel.Warning,
        "Limits: settling subject={Subject} failed ({Reason}); its reservation stays spent and its lease lapses within {LeaseSeconds}s. Logged once a minute at most; {HeldBack} more since the last such line. request_id={RequestId}",
        EventName = "LimitsSettleFailed")]
    public static partial void LimitsSettleFailed(ILogger logger, string subject, string reason, double leaseSeconds, long heldBack, string requestId);

    // Says why an answer of a request that set no cap stopped short (finish_reason length): its budget was near its end.
    [LoggerMessage(130, LogLevel.Information,
        "Limits: subject={Subject} has {Left} tokens of its budget left; the output cap the proxy adds is fitted to {Cap} (LIMITS_FIT_CAP) request_id={RequestId}",
        EventName = "LimitsCapFitted")]
    public static partial void LimitsCapFitted(ILogger logger, string subject, long left, long cap, string requestId);

    // The key pool (FcHandler/Keys/), ids from 100. Keys by name or fingerprint only, never a key.
    [LoggerMessage(100, LogLevel.Information, "Key pool of OPENAI_API_KEYS: {Count} keys ({Keys}); a subject keeps to its key while it is in service, and fails over before the first byte",
        EventName = "KeyPool")]
    public static partial void KeyPool(ILogger logger, int count, string keys);

    [LoggerMessage(101, LogLevel.Warning, "Key {Key} cooling down for {Seconds}s: {Reason}; its subjects go to their next key meanwhile request_id={RequestId}",
        EventName = "KeyCoolingDown")]
    public static partial void KeyCoolingDown(ILogger logger, string key, double seconds, string reason, string requestId);

    [LoggerMessage(102, LogLevel.Error,
        "Key {Key} refused by OpenAI, out of service for {Seconds}s: {Reason}. Fix the key or its account (check it with 'doctor'); one request tries it again after that request_id={RequestId}",
        EventName = "KeyRefused")]
    public static partial void KeyRefused(ILogger logger, string key, double seconds, string reason, string requestId);

    [LoggerMessage(103, LogLevel.Information, "Key {Key} back in service: {Why} (it was cooling down after: {Reason})", EventName = "KeyBackInService")]
    public static partial void KeyBackInService(ILogger logger, string key, string why, string reason);

    [LoggerMessage(104, LogLevel.Warning, "Key {Key} cooling down for {Seconds}s, as another instance found: {Reason}", EventName = "KeyCoolingDownShared")]
    public static partial void KeyCoolingDownShared(ILogger logger, string key, double seconds, string reason);

    [LoggerMessage(105, LogLevel.Warning,
        "Key cooldowns not shared: the limits store {Store} did not answer ({Reason}); this instance keeps its own meanwhile. Logged once a minute at most; {HeldBack} more since the last such line.",
        EventName = "KeyCooldownsUnshared")]
    public static partial void KeyCooldownsUnshared(ILogger logger, string store, string reason, long heldBack);

    // Information when every key answered 200, a warning otherwise; the refused keys have their key_refused line too.
    [LoggerMessage(EventId = 106, Message =
        "Keys probed at initialize with GET /v1/models: {Healthy} of {Count} answered 200 in {ElapsedMs} ms ({Keys})",
        EventName = "KeysProbed")]
    public static partial void KeysProbed(ILogger logger, LogLevel level, int healthy, int count, double elapsedMs, string keys);

    [LoggerMessage(122, LogLevel.Information,
        "WebSocket message refused: {Code} for subject={Subject}; the session is closed with 1008 and the message never reaches the upstream whole request_id={RequestId}",
        EventName = "WebSocketMessageRefused")]
    public static partial void WebSocketMessageRefused(ILogger logger, string code, string subject, string requestId);

    [LoggerMessage(123, LogLevel.Information,
        "WebSocket session closed: a response the server started on its own could not be reserved ({Code}) for subject={Subject} request_id={RequestId}",
        EventName = "WebSocketResponseRefused")]
    public static partial void WebSocketResponseRefused(ILogger logger, string code, string subject, string requestId);
}

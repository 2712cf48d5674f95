namespace FcHandler.Errors;

/// <summary>
/// A failure the proxy answers itself. Each has a fixed status, OpenAI error type and code (listed in docs/errors.md's
/// error table) and a message that says what to do. Messages never contain header values or bodies.
/// </summary>
internal readonly record struct ProxyError(int Status, string Type, string Code, string Message, string? Param = null)
{
    /// <summary>Seconds for the <c>Retry-After</c> header, on failures a retry shortly after can overcome; else null.</summary>
    public string? RetryAfter { get; init; }

    /// <summary>More response headers (a limit's <c>retry-after-ms</c>, <c>x-ratelimit-*</c>, <c>x-should-retry</c>); null for none.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Headers { get; init; }

    private const string InvalidRequest = "invalid_request_error";

    /// <summary>The error as the JSON body the client gets, carrying the request's id.</summary>
    public ErrorEnvelope ToEnvelope(string requestId) => new(new ErrorBody(Message, Type, Param, Code, requestId));
    private const string ProxyFailure = "proxy_error";

    public static ProxyError NotOriginForm() => new(
        StatusCodes.Status400BadRequest, InvalidRequest, "invalid_request_target",
        "The request target must be a path such as /v1/chat/completions; this proxy is not a forward proxy.");

    public static ProxyError PathTraversal() => new(
        StatusCodes.Status400BadRequest, InvalidRequest, "invalid_path",
        "The path contains a '.' or '..' segment, an encoded slash or a backslash (possibly percent-encoded); send the canonical path.");

    public static ProxyError UnknownUrl(string method, string path) => new(
        StatusCodes.Status404NotFound, InvalidRequest, "unknown_url",
        $"Unknown request URL: {method} {path}. This proxy serves the OpenAI API under /v1; set your client's base URL to this host followed by /v1.");

    public static ProxyError MethodNotAllowed(string method) => new(
        StatusCodes.Status405MethodNotAllowed, InvalidRequest, "method_not_allowed",
        $"The method {method} is not allowed here.");

    public static ProxyError RequestBodyInvalid() => new(
        StatusCodes.Status400BadRequest, InvalidRequest, "invalid_request_body",
        "The request body could not be read: its chunked encoding is malformed.");

    public static ProxyError RequestBodyTooLarge(long? limitBytes) => new(
        StatusCodes.Status413PayloadTooLarge, InvalidRequest, "request_too_large",
        limitBytes is { } limit
            ? $"The request body exceeds this proxy's limit of {limit / (1024 * 1024)} MB."
            : "The request body exceeds this proxy's limit.");

    public static ProxyError UpgradeNotSupported() => new(
        StatusCodes.Status400BadRequest, InvalidRequest, "websocket_not_supported",
        "This request asks for a WebSocket, but it did not arrive as an HTTP/1.1 upgrade (an FC event invocation cannot carry one); connect to the HTTP trigger or custom domain with wss://.");

    public static ProxyError OriginNotAllowed() => new(
        StatusCodes.Status403Forbidden, InvalidRequest, "origin_not_allowed",
        "A WebSocket from this web page's origin is not allowed here; the operator lists the allowed origins in CORS_ALLOWED_ORIGINS.");

    public static ProxyError UpstreamUnreachable() => new(
        StatusCodes.Status502BadGateway, ProxyFailure, "upstream_unreachable",
        "The proxy could not reach the upstream API or lost the connection before a response arrived; retry later.");

    // Upstream faults with a name of their own (FcHandler/Errors/UpstreamFault.cs). Messages say whose fault it is and
    // what helps; the log line with the same request id has the details.
    public static ProxyError UpstreamDnsFailure() => new(
        StatusCodes.Status502BadGateway, ProxyFailure, "upstream_dns_failure",
        "The proxy could not resolve the upstream API's host name; retry later, or check UPSTREAM_BASE_URL.");

    public static ProxyError UpstreamConnectionRefused() => new(
        StatusCodes.Status502BadGateway, ProxyFailure, "upstream_connection_refused",
        "The upstream API refused the proxy's connection; retry later.");

    public static ProxyError UpstreamConnectTimeout() => new(
        StatusCodes.Status504GatewayTimeout, ProxyFailure, "upstream_connect_timeout",
        "The proxy could not connect to the upstream API within CONNECT_TIMEOUT; retry later.");

    public static ProxyError UpstreamTlsFailure(string problem) => new(
        StatusCodes.Status502BadGateway, ProxyFailure, "upstream_tls_failure",
        $"The TLS handshake with the upstream API failed: {problem}.");

    public static ProxyError UpstreamConnectionReset() => new(
        StatusCodes.Status502BadGateway, ProxyFailure, "upstream_connection_reset",
        "The upstream API closed or reset the connection before it responded; the request may have reached it. Retry if it is safe to repeat.");

    public static ProxyError UpstreamProtocolError() => new(
        StatusCodes.Status502BadGateway, ProxyFailure, "upstream_protocol_error",
        "The upstream API reset the request's HTTP/2 stream, closed the connection with an error, or sent an invalid response; retry later.");

    public static ProxyError UpstreamTimeout() => new(
        StatusCodes.Status504GatewayTimeout, ProxyFailure, "upstream_timeout",
        "The upstream API sent no response within the proxy's timeout for this route; retry, or raise GENERATION_TIMEOUT / DEFAULT_TIMEOUT.");

    public static ProxyError InvalidEvent(string field, string message) => new(
        StatusCodes.Status400BadRequest, InvalidRequest, "invalid_event", message, field);

    public static ProxyError UpstreamIncomplete() => new(
        StatusCodes.Status502BadGateway, ProxyFailure, "upstream_incomplete",
        "The upstream API broke off its response midway; the partial response was discarded.");

    public static ProxyError ShuttingDown() => new(
        StatusCodes.Status503ServiceUnavailable, ProxyFailure, "shutting_down",
        "This instance is stopping and takes no new requests; retry, and another instance will answer.");

    // The OpenAI SDKs retry a 503 by themselves and honour Retry-After; the uploads holding the storage finish in seconds.
    public static ProxyError TempStorageFull() => new(
        StatusCodes.Status503ServiceUnavailable, ProxyFailure, "temp_storage_full",
        "This instance has no temporary storage left to receive the request body; retry shortly. Operators: raise TEMP_STORAGE_MB with FC's diskSize, or lower instanceConcurrency.")
    {
        RetryAfter = "2",
    };

    public static ProxyError Internal() => new(
        StatusCodes.Status500InternalServerError, ProxyFailure, "internal_error",
        "The proxy failed while handling this request; the access log has its request id.");

    // Access control (FcHandler/Access/). 401s use OpenAI's own invalid_request_error type, so SDKs raise their
    // authentication error; messages say what to send and never echo what was sent.
    public static ProxyError MissingAccessToken() => new(
        StatusCodes.Status401Unauthorized, InvalidRequest, "missing_api_key",
        "This proxy keeps the OpenAI key server-side: send your access token as the API key (Authorization: Bearer <token>).");

    public static ProxyError InvalidAccessToken() => new(
        StatusCodes.Status401Unauthorized, InvalidRequest, "invalid_api_key",
        "The access token is not valid for this proxy: use the token you were given as the API key, not an OpenAI key.");

    public static ProxyError AccessTokenExpired() => new(
        StatusCodes.Status401Unauthorized, InvalidRequest, "token_expired",
        "The access token has expired; ask for a new one.");

    public static ProxyError AccessTokenRevoked() => new(
        StatusCodes.Status401Unauthorized, InvalidRequest, "token_revoked",
        "The access token has been revoked; ask for a new one.");

    public static ProxyError RouteNotAllowed() => new(
        StatusCodes.Status403Forbidden, InvalidRequest, "route_not_allowed",
        "The access token does not allow this endpoint.");

    /// <param name="what">Which part is ambiguous: the proxy's own words, never a value from the request.</param>
    public static ProxyError AmbiguousMultipart(string what) => new(
        StatusCodes.Status400BadRequest, InvalidRequest, "ambiguous_multipart",
        $"The multipart body can be read two ways ({what}), so the proxy cannot tell which model it names. Send one boundary, one name per part, and the model as a plain field.");

    public static ProxyError ModelNotAllowed() => new(
        StatusCodes.Status403Forbidden, InvalidRequest, "model_not_allowed",
        "The access token does not allow this model, or the request does not name one the proxy can read (JSON or multipart 'model').");

    // What the limits step cannot bound, it refuses (docs/limits.md, "What is metered"): nothing reaches OpenAI unreserved.
    public static ProxyError RouteNotMetered(string method, string path, string spendClass) => new(
        StatusCodes.Status403Forbidden, InvalidRequest, "route_not_metered",
        $"{method} {path} runs models whose cost this proxy cannot meter, so it is refused for a client with a token budget or a " +
        $"TPM limit. The operator can allow it on purpose with unmetered={spendClass} in this client's limits.");

    public static ProxyError InputNotMetered(string what, string spendClass) => new(
        StatusCodes.Status403Forbidden, InvalidRequest, "input_not_metered",
        $"This request {what}, so what it costs cannot be bounded before it runs, and it is refused for a client with a token " +
        (spendClass == Limits.SpendTable.StoredInput
            ? "budget or a TPM limit. Send images and files inline (a data: URL, file_data) and the conversation in the request, or the "
            : "budget or a TPM limit. The ") +
        $"operator can allow it on purpose with unmetered={spendClass} in this client's limits.");

    public static ProxyError AmbiguousBody(string member, string problem) => new(
        StatusCodes.Status400BadRequest, InvalidRequest, "ambiguous_request_body",
        $"'{member}' {problem}. This proxy meters requests against token limits and must read '{member}' exactly as OpenAI " +
        "would: send it once, as OpenAI's API reference gives it (a whole number for a cap or a count, true or false for a flag).",
        member);

    // A read or a delete carries no body in OpenAI's API; what OpenAI would do with one is not known, so it is not passed.
    public static ProxyError BodyOnARead(string method) => new(
        StatusCodes.Status400BadRequest, InvalidRequest, "unexpected_request_body",
        $"A {method} request carries no body in OpenAI's API, and this proxy meters requests against token limits: it does not " +
        $"forward a body it cannot bound. Send the {method} without a body, or send the body with POST to the route that takes it.");

    public static ProxyError BodyNotMeterable(string problem) => new(
        StatusCodes.Status415UnsupportedMediaType, InvalidRequest, "unmeterable_request_body",
        $"The request body {problem}, so this proxy cannot bound what it costs against the client's token limits. " +
        "Send it as uncompressed JSON (Content-Type: application/json, no Content-Encoding).");

    // Rate limits and budgets (FcHandler/Limits/), shaped as OpenAI's own 429s so SDKs raise their RateLimitError
    // (https://platform.openai.com/docs/guides/error-codes/api-errors). The messages are the limits step's: they name the
    // limit, the subject and when to retry.
    public static ProxyError RequestsRateLimited(string message) => new(
        StatusCodes.Status429TooManyRequests, "requests", "rate_limit_exceeded", message);

    public static ProxyError TokensRateLimited(string message) => new(
        StatusCodes.Status429TooManyRequests, "tokens", "rate_limit_exceeded", message);

    public static ProxyError BudgetExhausted(string message) => new(
        StatusCodes.Status429TooManyRequests, "insufficient_quota", "insufficient_quota", message);

    public static ProxyError WebSocketNotMetered() => new(
        StatusCodes.Status403Forbidden, InvalidRequest, "websocket_not_metered",
        "Under this proxy's token limits, WebSockets are relayed only on /v1/realtime and /v1/responses, where each response is reserved and settled; this path's cannot be metered.");

    // The SDKs retry a 503 by themselves and honour Retry-After; the store is back within seconds or the operator knows.
    public static ProxyError LimitsUnavailable() => new(
        StatusCodes.Status503ServiceUnavailable, ProxyFailure, "limits_unavailable",
        "The proxy could not check this request against its limits: its limits store did not answer in time. Retry shortly.")
    {
        RetryAfter = "2",
    };

    public static ProxyError RequestBodyTimeout() => new(
        StatusCodes.Status408RequestTimeout, InvalidRequest, "request_timeout",
        "The request body arrived too slowly; the proxy stopped waiting for it (CLIENT_TIMEOUT).");
}

using System.Collections.Frozen;

namespace FcHandler.Proxy;

/// <summary>What happens to a header as it crosses the proxy.</summary>
internal enum HeaderAction
{
    Forward,
    Drop,
}

/// <summary>
/// The header rules, both directions, as data. Requests are allow-listed: the upstream sees the OpenAI headers
/// named below, and those the operator adds with <c>PROXY_FORWARD_HEADERS</c>, and nothing else, so no CDN, FC or
/// client header can tell it the client's region or address, now or when a new one appears. Responses are
/// deny-listed: everything OpenAI sends reaches the client except hop-by-hop headers and the ones FC reserves for
/// itself.
/// </summary>
internal static class HeaderRules
{
    /// <summary>Request headers sent upstream unchanged, by exact name.</summary>
    private static readonly FrozenSet<string> RequestAllowed = FrozenSet.ToFrozenSet(
    [
        "Authorization",
        "api-key", // Azure OpenAI's key header, for an Azure upstream.
        "Idempotency-Key",
        "Accept",
        "Accept-Encoding",
        "Content-Type",
        "Content-Length",
        "Content-Encoding",
        // The client's name and version. Codex's also names the OS version, CPU architecture and terminal
        // ("codex_cli_rs/0.121.0 (Mac OS 15.4.1; arm64) iTerm.app/3.5.13"): a machine's kind, not where it is or
        // whose it is, and exactly what the client would send OpenAI without the proxy.
        "User-Agent",
        "Cache-Control",
        // A client's own id for one request, for OpenAI support to find it.
        // https://platform.openai.com/docs/api-reference/debugging-requests
        "X-Client-Request-Id",
        // The legacy Python SDK (0.x) metadata: language, OS and kernel release; its uname leaves out the host name.
        "X-OpenAI-Client-User-Agent",
        // The Agents SDK (JS), on realtime calls: its own version.
        "X-OpenAI-Agents-SDK",
        // The Codex CLI (https://github.com/openai/codex, codex-rs), on its Responses requests: which Codex
        // surface sends (codex_cli_rs, codex_vscode, codex_exec) and its version...
        "originator",
        "version",
        // ...the conversation, which OpenAI uses to route it to a warm prompt cache: session_id (conversation_id too
        // in older releases; session-id and thread-id in later ones), x-session-id on a realtime call...
        "session_id",
        "session-id",
        "conversation_id",
        "thread-id",
        "x-session-id",
        // ...the turn's sticky-routing token, the context window, the parent thread and role of a sub-agent, the
        // installation (a random UUID, also in the request body's client_metadata), the beta features on...
        "x-codex-turn-state",
        "x-codex-window-id",
        "x-codex-parent-thread-id",
        "x-openai-subagent",
        "x-openai-memgen-request",
        "x-codex-installation-id",
        "x-codex-beta-features",
        "x-responsesapi-include-timing-metrics",
        // ...and a workspace's data-residency requirement ("us"): a policy to honour, not the client's location.
        "x-openai-internal-codex-residency",

        // Sent by the same clients and left out on purpose (docs/first-party-headers.md; PROXY_FORWARD_HEADERS
        // can add them): x-codex-turn-metadata (observability only, and it names the local repository path and
        // git remotes, which can point at a region), ChatGPT-Account-ID and x-oai-attestation (ChatGPT's backend
        // and a device attestation, meaningless to the API), traceparent and tracestate (the user's own tracing),
        // X-Request-Id (the legacy SDK's request id, and the name gateways stamp on requests).
    ], StringComparer.OrdinalIgnoreCase);

    /// <summary>Request header families sent upstream unchanged, by prefix.</summary>
    private static readonly string[] RequestAllowedPrefixes =
    [
        "OpenAI-", // OpenAI-Organization, OpenAI-Project, OpenAI-Beta; the Agents SDK's OpenAI-Log-Session
        // The official SDKs' client metadata: language, runtime, OS and CPU architecture (a machine's kind, not its
        // place), retry count, timeout, helper method.
        "x-stainless-",
    ];

    /// <summary>
    /// Request headers that never reach the upstream, not even when named in <c>PROXY_FORWARD_HEADERS</c>: they tell
    /// where the client is or who it is on the network, carry a platform's credentials, or belong to this hop rather
    /// than to the request. The allow-list drops them anyway; this table lets start-up refuse an operator's entry that
    /// would let one through.
    /// </summary>
    private static readonly FrozenSet<string> RequestNeverForwarded = FrozenSet.ToFrozenSet(
    [
        // The client's address and the way it came (RFC 7239, and what CDNs and load balancers add).
        "Forwarded", "X-Real-IP", "True-Client-IP", "X-Client-IP", "X-Cluster-Client-IP", "Fastly-Client-IP", "Via",
        // Region hints: a locale, the site the request came from, the client's cookies.
        "Accept-Language", "Origin", "Referer", "Cookie",
        // This hop's: the upstream's own Host is used; hop-by-hop headers (RFC 9110 section 7.6.1).
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "Proxy-Authorization",
        "TE", "Trailer", "HTTP2-Settings",
    ], StringComparer.OrdinalIgnoreCase);

    /// <summary>Families of <see cref="RequestNeverForwarded"/> headers, by prefix.</summary>
    private static readonly string[] RequestNeverForwardedPrefixes =
    [
        "X-Forwarded", // X-Forwarded-For, -Host, -Proto, -Port, ...
        "CF-", // Cloudflare: CF-Connecting-IP, CF-IPCountry, CF-Ray, ...
        "x-fc-", // FC: request metadata and the function's temporary cloud credentials
        "Ali-", // Alibaba Cloud CDN: Ali-Cdn-Real-Ip, ...
        "EagleEye-", // Alibaba Cloud's tracing
    ];

    /// <summary>The request rule when <c>PROXY_FORWARD_HEADERS</c> adds nothing.</summary>
    private static readonly RequestAllowList BuiltInRequestAllowList = new(RequestAllowed, RequestAllowedPrefixes);

    /// <summary>
    /// Request headers sent upstream only with a WebSocket handshake (RFC 6455 section 4.1), which the upstream needs to
    /// answer it: the key it proves it read, the version, the subprotocols (OpenAI's is <c>realtime</c>; in server-key
    /// mode admission has already removed any token from the list) and the extensions (permessage-deflate, relayed
    /// compressed). <c>Connection: Upgrade</c> and <c>Upgrade: websocket</c> are not here because YARP adds them itself
    /// to the request it upgrades (<c>HttpForwarder.FixupUpgradeRequestHeaders</c>); copied too, they would go twice.
    /// </summary>
    private static readonly FrozenSet<string> UpgradeRequestAllowed = FrozenSet.ToFrozenSet(
    [
        "Sec-WebSocket-Key",
        "Sec-WebSocket-Version",
        "Sec-WebSocket-Protocol",
        // Not Sec-WebSocket-Extensions: with none offered, none is negotiated (RFC 6455 section 9.1), so frames stay
        // plain. permessage-deflate would hide every payload from the relay: close codes, usage, a scope's or a limit's
        // reading of each message. OpenAI's WebSockets work without it; it only saves bandwidth on JSON events.
    ], StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Response headers never passed to the client: hop-by-hop headers (RFC 9110 section 7.6.1), the headers an FC
    /// function may not set (https://help.aliyun.com/document_detail/191345.html), and headers that describe the
    /// upstream's own policy for this domain rather than the API's answer.
    /// </summary>
    private static readonly FrozenSet<string> ResponseDropped = FrozenSet.ToFrozenSet(
    [
        // Hop-by-hop: they describe the upstream connection, not this one.
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "Proxy-Authenticate",
        "Proxy-Authentication-Info", "TE", "Trailer", "Alt-Svc", "HTTP2-Settings",
        // Reserved by FC: the function may not set them (FC computes its own; Kestrel chunks the body).
        "Content-Length", "Date", "Server",
        // Cookies for the upstream's domain mean nothing on this one.
        "Set-Cookie",
        // CORS is this proxy's to answer (see CorsPolicy), not the upstream's.
        "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
    ], StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The request rule with the operator's additions (<c>PROXY_FORWARD_HEADERS</c> as <see cref="ForwardHeadersReader"/>
    /// returns them): names, and prefixes ending in <c>*</c>. Built once at start-up.
    /// </summary>
    public static RequestAllowList RequestAllowListWith(IReadOnlyCollection<string> additions)
        => additions.Count == 0
            ? BuiltInRequestAllowList
            : new(
                [.. RequestAllowed, .. additions.Where(entry => !IsPrefixEntry(entry))],
                [.. RequestAllowedPrefixes, .. additions.Where(IsPrefixEntry).Select(entry => entry[..^1])]);

    /// <summary>An entry of <c>PROXY_FORWARD_HEADERS</c> ending in <c>*</c> names a family of headers by its prefix.</summary>
    public static bool IsPrefixEntry(string entry) => entry.EndsWith('*');

    /// <summary>
    /// Whether an entry of <c>PROXY_FORWARD_HEADERS</c> would let a header of <see cref="RequestNeverForwarded"/> through:
    /// a name of the table or of one of its families, or a prefix that covers one (<c>x-*</c> covers X-Real-IP).
    /// </summary>
    public static bool WouldForwardNeverForwarded(string entry)
    {
        if (!IsPrefixEntry(entry))
        {
            return RequestNeverForwarded.Contains(entry) || StartsWithAny(entry, RequestNeverForwardedPrefixes);
        }

        var prefix = entry[..^1];
        return StartsWithAny(prefix, RequestNeverForwardedPrefixes)
            || RequestNeverForwarded.Any(name => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            || RequestNeverForwardedPrefixes.Any(family => family.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
    }

    private static bool StartsWithAny(string value, string[] prefixes)
        => prefixes.Any(prefix => value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether the header is one a WebSocket handshake carries upstream besides the request's own.</summary>
    public static bool IsHandshakeHeader(string name) => UpgradeRequestAllowed.Contains(name);

    public static HeaderAction ForResponse(string name, ReadOnlySpan<char> value)
    {
        if (ResponseDropped.Contains(name)
            || name.StartsWith("x-fc-", StringComparison.OrdinalIgnoreCase)
            // FC refuses "Content-Disposition: attachment" from a function; other dispositions pass.
            || (name.Equals("Content-Disposition", StringComparison.OrdinalIgnoreCase)
                && value.TrimStart().StartsWith("attachment", StringComparison.OrdinalIgnoreCase)))
        {
            return HeaderAction.Drop;
        }

        return HeaderAction.Forward;
    }
}

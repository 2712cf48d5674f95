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
/// named below and nothing else, so no CDN, FC or client header can tell it the client's region or address, now
/// or when a new one appears. Responses are deny-listed: everything OpenAI sends reaches the client except
/// hop-by-hop headers and the ones FC reserves for itself.
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

    public static HeaderAction ForRequest(string name)
    {
        if (RequestAllowed.Contains(name))
        {
            return HeaderAction.Forward;
        }

        foreach (var prefix in RequestAllowedPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return HeaderAction.Forward;
            }
        }

        // Everything else, and by name the ones that matter most: X-Forwarded-*, Forwarded, X-Real-IP,
        // True-Client-IP, X-Client-IP, CF-* (CF-Connecting-IP, CF-IPCountry), Via, x-fc-* (FC's temporary cloud
        // credentials), Host (the upstream's own is used), Cookie, Origin, Referer, Accept-Language (a locale is a region
        // hint), hop-by-hop headers.
        return HeaderAction.Drop;
    }

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

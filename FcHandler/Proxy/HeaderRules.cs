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
        "User-Agent",
        "Cache-Control",
    ], StringComparer.OrdinalIgnoreCase);

    /// <summary>Request header families sent upstream unchanged, by prefix.</summary>
    private static readonly string[] RequestAllowedPrefixes =
    [
        "OpenAI-", // OpenAI-Organization, OpenAI-Project, OpenAI-Beta
        "x-stainless-", // the official SDKs' client metadata (language, runtime, retry count)
    ];

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
        "Sec-WebSocket-Extensions",
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

    /// <summary>The rule for a header of a WebSocket handshake: the handshake's own headers, then the usual rules.</summary>
    public static HeaderAction ForUpgradeRequest(string name)
        => UpgradeRequestAllowed.Contains(name) ? HeaderAction.Forward : ForRequest(name);

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

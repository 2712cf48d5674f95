using System.Collections.Frozen;
using FcHandler.Hosting;
using FcHandler.Keys;

namespace FcHandler.Access;

/// <summary>
/// Who may use the proxy and with which key, read once at start-up by <see cref="AccessOptionsReader"/>.
/// With no <see cref="ServerKeys"/> (the default) access control is off: clients send their own OpenAI key and it
/// passes through. With them, the proxy holds the keys and admits clients by access token only.
/// </summary>
internal sealed class AccessOptions
{
    /// <summary>
    /// The OpenAI keys the proxy sends upstream in place of the client's token: <c>OPENAI_API_KEY</c>'s one key, or
    /// <c>OPENAI_API_KEYS</c>'s pool. Empty by default (pass-through mode). Never logged, never echoed in an error.
    /// </summary>
    public IReadOnlyList<UpstreamKey> ServerKeys { get; init; } = [];

    /// <summary>The setting the keys came from, for the start-up line and messages: <c>OPENAI_API_KEY</c> (the default) or <c>OPENAI_API_KEYS</c>.</summary>
    public string ServerKeysSetting { get; init; } = ConfigKeys.OpenAIApiKey;

    /// <summary>Static access tokens (<c>PROXY_ACCESS_TOKENS</c>, comma-separated). Empty by default.</summary>
    public IReadOnlyList<string> StaticTokens { get; init; } = [];

    /// <summary>The HMAC-SHA256 key that signs and verifies <c>fcp1.</c> tokens (<c>PROXY_TOKEN_SECRET</c>). Null by default.</summary>
    public byte[]? TokenSecret { get; init; }

    /// <summary>Ids (<c>jti</c>) of signed tokens refused although their signature holds (<c>PROXY_REVOKED_TOKEN_IDS</c>).</summary>
    public FrozenSet<string> RevokedTokenIds { get; init; } = FrozenSet<string>.Empty;

    /// <summary>Body size and slow-client limits; they apply in both modes.</summary>
    public ClientLimits Limits { get; init; } = new();

    /// <summary>Server-side key mode: clients need an access token.</summary>
    public bool Enabled => ServerKeys.Count > 0;
}

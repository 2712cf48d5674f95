using FcHandler.Limits;
using FcHandler.Proxy;

namespace FcHandler.Access;

/// <summary>
/// A client admitted by token: who it is and what its token lets it do. Kept as an <see cref="HttpContext"/> feature, so
/// the limits step knows whose counters a request counts against.
/// </summary>
internal sealed class AccessGrant(
    string subject, string[]? models, RouteClass[]? routes, bool forwardsClientKey = false, string? tokenId = null, LimitSet? limits = null)
{
    /// <summary>
    /// An OpenAI ephemeral client secret (<c>ek_...</c>), minted through <c>/v1/realtime/client_secrets</c> for one Realtime
    /// session: it goes upstream as the client sent it (OpenAI checks it and bills whoever minted it), on realtime
    /// paths only, the only ones it is good for.
    /// </summary>
    public static readonly AccessGrant EphemeralKey = new("ephemeral", null, [RouteClass.Realtime], forwardsClientKey: true);

    /// <summary>Names the client in the access log: a signed token's <c>sub</c>, or <c>static-N</c> for the Nth static token.</summary>
    public string Subject { get; } = subject;

    /// <summary>A signed token's id (<c>jti</c>), which revocation names; null for static tokens and ephemeral keys.</summary>
    public string? TokenId { get; } = tokenId;

    /// <summary>The limits the token carries; null when it carries none and the proxy's settings decide.</summary>
    public LimitSet? Limits { get; } = limits;

    /// <summary>True when the client's own credential goes upstream rather than the server's key.</summary>
    public bool ForwardsClientKey { get; } = forwardsClientKey;

    /// <summary>Whether requests must name an allowed model, which means reading the body.</summary>
    public bool HasModelScope => models is not null;

    public bool AllowsRoute(RouteClass route) => routes is null || routes.Contains(route);

    public bool AllowsModel(string model)
    {
        if (models is null)
        {
            return true;
        }

        foreach (var pattern in models)
        {
            if (TokenScopes.ModelMatches(pattern, model))
            {
                return true;
            }
        }

        return false;
    }
}

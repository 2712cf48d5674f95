using System.Text.Json.Serialization;

namespace FcHandler.Access;

/// <summary>
/// The claims a signed token carries, as JSON in its middle part: <c>{"sub","exp","jti","models"?,"routes"?,"limits"?}</c>.
/// </summary>
/// <param name="Sub">Who holds the token; named in the access log. Letters, digits and <c>._@:-</c>, at most 64.</param>
/// <param name="Exp">Expiry, Unix seconds; refused from that second on.</param>
/// <param name="Jti">The token's id, for <c>PROXY_REVOKED_TOKEN_IDS</c>.</param>
/// <param name="Models">Allowed models (exact ids, or a prefix ending in <c>*</c>); absent = any model.</param>
/// <param name="Routes">Allowed route classes (<c>generation</c>, <c>pass-through</c>); absent = both.</param>
/// <param name="Limits">
/// The subject's rate limits and budget in <c>LimitSet</c>'s text (<c>rpm=60,budget=1M/month</c>, or <c>none</c>);
/// absent = what the proxy's settings give the subject.
/// </param>
internal sealed record TokenPayload(
    string Sub,
    long Exp,
    string Jti,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string[]? Models,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string[]? Routes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Limits = null);

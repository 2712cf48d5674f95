using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using FcHandler.Errors;
using FcHandler.Limits;
using Microsoft.Extensions.Primitives;

namespace FcHandler.Access;

/// <summary>
/// Decides from the token a client presents (<c>Authorization: Bearer</c>, or a browser WebSocket's subprotocol) alone
/// whether it is admitted, and as whom. Static tokens are compared as SHA-256 hashes in constant time, all of them
/// every time, so neither a token's length nor how much of it matched nor which entry matched shows in the response
/// time. OpenAI's ephemeral keys are admitted for the Realtime API, as OpenAI credentials (see
/// <see cref="AccessGrant.EphemeralKey"/>).
/// </summary>
internal sealed class AccessGate
{
    private const string Bearer = "Bearer ";
    private const string EphemeralKeyPrefix = "ek_";

    private readonly AccessOptions _options;
    private readonly TimeProvider _time;
    private readonly byte[][] _staticHashes;

    public AccessGate(AccessOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _staticHashes = [.. options.StaticTokens.Select(token => SHA256.HashData(Encoding.UTF8.GetBytes(token)))];
    }

    public bool TryAdmit(StringValues authorization, [NotNullWhen(true)] out AccessGrant? grant, out ProxyError error)
        => TryAdmitToken(BearerToken(authorization), out grant, out error);

    /// <summary>The same decision for a token however it came (a browser's WebSocket brings it in its subprotocol list).</summary>
    public bool TryAdmitToken(string token, [NotNullWhen(true)] out AccessGrant? grant, out ProxyError error)
    {
        grant = null;
        error = ProxyError.MissingAccessToken();
        if (token.Length == 0)
        {
            return false;
        }

        if (IsEphemeralKey(token))
        {
            grant = AccessGrant.EphemeralKey;
            return true;
        }

        grant = token.StartsWith(SignedToken.Prefix, StringComparison.Ordinal) && _options.TokenSecret is { } secret
            ? AdmitSigned(token, secret, out error)
            : AdmitStatic(token, out error);
        return grant is not null;
    }

    /// <summary>The token of a single <c>Authorization: Bearer</c> header; empty for anything else.</summary>
    public static string BearerToken(StringValues authorization)
    {
        var value = authorization.Count == 1 ? authorization[0] ?? "" : "";
        return value.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) ? value[Bearer.Length..].Trim() : "";
    }

    // OpenAI's ephemeral keys: "ek_" and a URL-safe random part (https://platform.openai.com/docs/api-reference/realtime-sessions).
    private static bool IsEphemeralKey(string token)
        => token.Length is > 8 and <= 512
            && token.StartsWith(EphemeralKeyPrefix, StringComparison.Ordinal)
            && token.AsSpan(EphemeralKeyPrefix.Length).IndexOfAnyExcept(TokenScopes.UrlSafeChars) < 0;

    private AccessGrant? AdmitSigned(string token, byte[] secret, out ProxyError error)
    {
        error = ProxyError.InvalidAccessToken();
        if (SignedToken.Verify(token, secret) is not { } payload)
        {
            return null;
        }

        if (_time.GetUtcNow().ToUnixTimeSeconds() >= payload.Exp)
        {
            error = ProxyError.AccessTokenExpired();
            return null;
        }

        if (_options.RevokedTokenIds.Contains(payload.Jti))
        {
            error = ProxyError.AccessTokenRevoked();
            return null;
        }

        var routes = payload.Routes is null ? null : TokenScopes.ParseRoutes(payload.Routes);
        if (payload.Routes is not null && routes is null)
        {
            return null; // a route name this version does not know: refuse rather than widen
        }

        var limits = LimitSet.TryParse(payload.Limits);
        if (payload.Limits is not null && limits is null)
        {
            return null; // limits this version cannot read: refuse rather than admit the token unlimited
        }

        return new AccessGrant(payload.Sub, payload.Models, routes, tokenId: payload.Jti, limits: limits);
    }

    private AccessGrant? AdmitStatic(string token, out ProxyError error)
    {
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), presented);

        var match = -1;
        for (var i = 0; i < _staticHashes.Length; i++)
        {
            var equal = CryptographicOperations.FixedTimeEquals(presented, _staticHashes[i]);
            match = equal ? i : match;
        }

        error = ProxyError.InvalidAccessToken();
        return match < 0 ? null : new AccessGrant($"static-{match + 1}", null, null);
    }
}

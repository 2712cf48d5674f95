using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FcHandler.Json;

namespace FcHandler.Access;

/// <summary>
/// Signed access tokens: <c>fcp1.&lt;base64url(payload JSON)&gt;.&lt;base64url(HMAC-SHA256(secret, "fcp1." + payload part))&gt;</c>.
/// The proxy needs no store to admit them (a function has none): the signature proves the claims, the claims carry
/// the expiry and scopes, and revocation is a short list of ids in the environment.
/// </summary>
internal static class SignedToken
{
    public const string Prefix = "fcp1.";

    private const int SignatureBytes = 32;

    public static string Issue(TokenPayload payload, byte[] secret)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(payload, ProxyJsonContext.Default.TokenPayload);
        var signed = Prefix + Base64Url.EncodeToString(json);
        return signed + "." + Base64Url.EncodeToString(Sign(secret, signed));
    }

    /// <summary>The claims if <paramref name="token"/> is well-formed and signed with <paramref name="secret"/>, else null.</summary>
    public static TokenPayload? Verify(string token, byte[] secret)
    {
        var dot = token.LastIndexOf('.');
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || dot <= Prefix.Length)
        {
            return null;
        }

        var signed = token.AsSpan(0, dot);
        Span<byte> presented = stackalloc byte[SignatureBytes];
        if (!TryDecode(token.AsSpan(dot + 1), presented, out var length) || length != SignatureBytes)
        {
            return null;
        }

        // Constant time: how much of a forged signature matches must not show in the response time.
        if (!CryptographicOperations.FixedTimeEquals(presented, Sign(secret, signed)))
        {
            return null;
        }

        // Signed but unreadable: only a buggy issuer makes these; refuse like any invalid token.
        return ReadClaims(signed[Prefix.Length..]);
    }

    /// <summary>
    /// The claims of a well-formed token without checking its signature: for <c>limits show</c> on a machine without the
    /// secret, which says so. Never for admission.
    /// </summary>
    public static TokenPayload? ReadUnverified(string token)
    {
        var dot = token.LastIndexOf('.');
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || dot <= Prefix.Length)
        {
            return null;
        }

        return ReadClaims(token.AsSpan(Prefix.Length, dot - Prefix.Length));
    }

    private static TokenPayload? ReadClaims(ReadOnlySpan<char> encoded)
    {
        var json = new byte[Base64Url.GetMaxDecodedLength(encoded.Length)];
        if (!TryDecode(encoded, json, out var length))
        {
            return null;
        }

        try
        {
            var payload = JsonSerializer.Deserialize(json.AsSpan(0, length), ProxyJsonContext.Default.TokenPayload);
            return payload is not null
                && TokenScopes.IsValidSubject(payload.Sub)
                && TokenScopes.IsValidId(payload.Jti)
                && (payload.Models ?? []).All(model => model is not null)
                && (payload.Routes ?? []).All(route => route is not null)
                ? payload
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Decodes the canonical base64url <see cref="Issue"/> writes (its alphabet only: no padding, no whitespace) without
    /// throwing. <c>Base64Url.TryDecodeFromChars</c> returns false only for a short destination and throws
    /// <see cref="FormatException"/> on a character outside the alphabet (<c>+</c>, <c>/</c>, non-ASCII), which a client
    /// controls; anything a client sends must end in a 401, never an exception.
    /// </summary>
    private static bool TryDecode(ReadOnlySpan<char> encoded, Span<byte> destination, out int length)
    {
        length = 0;
        if (encoded.IndexOfAnyExcept(TokenScopes.UrlSafeChars) >= 0
            || !Base64Url.IsValid(encoded, out var decodedLength)
            || decodedLength > destination.Length)
        {
            return false;
        }

        return Base64Url.DecodeFromChars(encoded, destination, out _, out length) == OperationStatus.Done;
    }

    private static byte[] Sign(byte[] secret, ReadOnlySpan<char> signed)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(signed)];
        Encoding.UTF8.GetBytes(signed, bytes);
        return HMACSHA256.HashData(secret, bytes);
    }
}

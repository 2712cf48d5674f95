using System.Security.Cryptography;
using System.Text;
using FcHandler.Access;
using FcHandler.Proxy.WebSockets;

namespace FcHandler.Limits;

/// <summary>
/// The subject of a client that sends its own OpenAI key (no <c>OPENAI_API_KEY</c> in the function): <c>key-</c> and the
/// first 16 hex digits of the key's SHA-256. The same on every instance and every restart, so counters follow the key;
/// it names the key in logs, <c>LIMITS_BY_SUBJECT</c> and <c>limits show</c> without revealing it.
/// </summary>
internal static class KeySubject
{
    public const string Prefix = "key-";

    /// <summary>The subject of the key the request carries (its bearer token, or a browser WebSocket's subprotocol); null without one.</summary>
    public static string? Of(HttpRequest request)
    {
        var key = AccessGate.BearerToken(request.Headers.Authorization);
        if (key.Length == 0 && WebSocketForwarder.IsRequested(request))
        {
            key = SubprotocolCredential.Find(request.Headers.SecWebSocketProtocol) ?? "";
        }

        return key.Length == 0 ? null : For(key);
    }

    public static string For(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return Prefix + Convert.ToHexStringLower(hash[..8]);
    }
}

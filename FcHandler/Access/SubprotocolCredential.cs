using Microsoft.Extensions.Primitives;

namespace FcHandler.Access;

/// <summary>
/// The credential a browser puts in a WebSocket's subprotocol list, where OpenAI's browser clients put the API key
/// because a browser cannot set <c>Authorization</c> on a WebSocket:
/// <c>Sec-WebSocket-Protocol: realtime, openai-insecure-api-key.&lt;key&gt;</c> (older clients add
/// <c>openai-beta.realtime-v1</c>). In server-key mode the proxy reads its access token from there, and removes every such
/// entry before the list goes upstream.
/// </summary>
internal static class SubprotocolCredential
{
    public const string Prefix = "openai-insecure-api-key.";

    /// <summary>The first credential in the list, or null.</summary>
    public static string? Find(StringValues protocols)
    {
        foreach (var protocol in Entries(protocols))
        {
            if (protocol.StartsWith(Prefix, StringComparison.Ordinal))
            {
                return protocol[Prefix.Length..];
            }
        }

        return null;
    }

    /// <summary>The list without its credentials, except the entry carrying <paramref name="keep"/>; empty if nothing is left.</summary>
    public static StringValues Without(StringValues protocols, string? keep = null)
    {
        var kept = Entries(protocols)
            .Where(protocol => !protocol.StartsWith(Prefix, StringComparison.Ordinal) || (keep is not null && protocol.AsSpan(Prefix.Length).SequenceEqual(keep)))
            .ToArray();
        return kept.Length == 0 ? StringValues.Empty : new StringValues(string.Join(", ", kept));
    }

    private static IEnumerable<string> Entries(StringValues protocols)
        => protocols.SelectMany(value => (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

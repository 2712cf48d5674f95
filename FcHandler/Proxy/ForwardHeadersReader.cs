using System.Buffers;
using FcHandler.Hosting;

namespace FcHandler.Proxy;

/// <summary>
/// Reads <c>PROXY_FORWARD_HEADERS</c>: request headers the operator wants forwarded beyond
/// <see cref="HeaderRules"/>' own, as a comma-separated list of names and prefixes ending in <c>*</c>. Anything that
/// is not a header name, and any entry that would let through a header the proxy never forwards, stops start-up
/// with a message naming each such entry.
/// </summary>
internal static class ForwardHeadersReader
{
    private const string Example = "such as x-my-trace-id,x-codex-*";

    // RFC 9110 section 5.6.2: a field name is a token, one or more of these.
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    public static string[] Read(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }

        var entries = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        // Every problem at once: a deployment is slow to repeat.
        var malformed = entries.Where(entry => !IsWellFormed(entry)).ToArray();
        var refused = entries.Except(malformed).Where(HeaderRules.WouldForwardNeverForwarded).ToArray();
        var problems = new List<string>(2);
        if (malformed.Length > 0)
        {
            problems.Add(
                $"{ConfigKeys.ProxyForwardHeaders} must be header names or prefixes ending in *, separated by commas, {Example}; " +
                $"not a header name: {Quote(malformed)}.");
        }

        if (refused.Length > 0)
        {
            problems.Add(
                $"{ConfigKeys.ProxyForwardHeaders} cannot forward headers that tell the upstream the client's address or region, " +
                $"carry platform credentials or belong to this hop (X-Forwarded-*, Forwarded, X-Real-IP, CF-*, x-fc-*, Cookie, " +
                $"Host, hop-by-hop headers, ...); refused: {Quote(refused)}. Name the headers to add, or prefixes that cover none " +
                $"of those, {Example}.");
        }

        if (problems.Count > 0)
        {
            throw new ConfigurationException(string.Join(' ', problems));
        }

        return entries;
    }

    // '*' is a token character too, so anywhere but at the end it would make a name no client sends.
    private static bool IsWellFormed(string entry)
    {
        var prefix = HeaderRules.IsPrefixEntry(entry);
        var name = prefix ? entry.AsSpan(0, entry.Length - 1) : entry.AsSpan();
        return (name.Length > 0 || prefix) && !name.Contains('*') && name.IndexOfAnyExcept(TokenChars) < 0;
    }

    // The entries as the operator wrote them, control characters made visible: the message is printed as it is.
    private static string Quote(IEnumerable<string> entries)
        => string.Join(", ", entries.Select(entry => $"'{string.Concat(entry.Select(c => char.IsControl(c) ? '?' : c))}'"));
}

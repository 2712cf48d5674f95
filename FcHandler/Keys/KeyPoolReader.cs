using System.Text.RegularExpressions;
using FcHandler.Hosting;

namespace FcHandler.Keys;

/// <summary>
/// Reads the server's OpenAI keys: <c>OPENAI_API_KEY</c> (one key, as always) or <c>OPENAI_API_KEYS</c> (a pool: entries
/// separated by commas or line breaks, each <c>sk-...</c> or <c>name=sk-...</c>). A bad entry stops start-up with a message
/// that names it by position (and by name, when it has one) and never contains a key.
/// </summary>
internal static partial class KeyPoolReader
{
    /// <summary>A name shows in every access line: short, and nothing a log query would trip on.</summary>
    public const int MaxNameLength = 32;

    /// <summary>The keys, in the order given; empty when neither setting is set.</summary>
    public static IReadOnlyList<UpstreamKey> Read(IConfiguration configuration)
    {
        var single = configuration[ConfigKeys.OpenAIApiKey];
        var pool = configuration[ConfigKeys.OpenAIApiKeys];
        if (!string.IsNullOrWhiteSpace(single) && !string.IsNullOrWhiteSpace(pool))
        {
            throw new ConfigurationException(
                $"{ConfigKeys.OpenAIApiKey} and {ConfigKeys.OpenAIApiKeys} are both set: set one. {ConfigKeys.OpenAIApiKey} holds one key; " +
                $"{ConfigKeys.OpenAIApiKeys} a pool (name=sk-..., separated by commas or line breaks), which may include that key.");
        }

        if (!string.IsNullOrWhiteSpace(single))
        {
            var key = single.Trim();
            if (key.AsSpan().ContainsAny(" \t\r\n"))
            {
                throw new ConfigurationException($"{ConfigKeys.OpenAIApiKey} must be a single OpenAI key (sk-...), without spaces or line breaks.");
            }

            return [new UpstreamKey(key, null)];
        }

        return string.IsNullOrWhiteSpace(pool) ? [] : ReadPool(pool);
    }

    private static List<UpstreamKey> ReadPool(string value)
    {
        // Blank lines, and a comma at the end of a line, are layout; an empty entry between two commas is a lost key.
        var entries = value.Replace("\r", "", StringComparison.Ordinal).Split('\n')
            .Where(line => !string.IsNullOrWhiteSpace(line))
            .SelectMany(line => line.Trim().TrimEnd(',').Split(',', StringSplitOptions.TrimEntries))
            .ToArray();
        var keys = new List<UpstreamKey>(entries.Length);
        var secrets = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Length; i++)
        {
            var position = i + 1;
            var entry = entries[i];
            if (entry.Length == 0)
            {
                throw Refuse(position, null, "is empty (two commas in a row, or a leading one); remove it or put the missing key there");
            }

            var equals = entry.IndexOf('=');
            string? name = null;
            var secret = entry;
            if (equals >= 0)
            {
                name = entry[..equals].Trim();
                secret = entry[(equals + 1)..].Trim();
                if (!ValidName().IsMatch(name))
                {
                    // The part before '=' might be a key pasted in the wrong place: it is not echoed.
                    throw Refuse(position, null,
                        $"has a name that is not 1 to {MaxNameLength} letters, digits, '-', '_' or '.' before its '='; write name=sk-...");
                }
            }

            if (secret.Length == 0)
            {
                throw Refuse(position, name, "has no key after its name; write name=sk-...");
            }

            if (secret.AsSpan().ContainsAny(" \t\r"))
            {
                throw Refuse(position, name, "has a space in its key; an OpenAI key is one word (sk-...)");
            }

            if (secrets.TryGetValue(secret, out var first))
            {
                throw Refuse(position, name, $"is the same key as entry {first}; list each key once (a duplicate would only look like a spare)");
            }

            if (name is not null && names.TryGetValue(name, out var named))
            {
                throw Refuse(position, name, $"uses the name of entry {named}; names tell keys apart in the logs, so each must be unique");
            }

            secrets[secret] = position;
            if (name is not null)
            {
                names[name] = position;
            }

            keys.Add(new UpstreamKey(secret, name));
        }

        if (keys.Count == 0)
        {
            throw new ConfigurationException($"{ConfigKeys.OpenAIApiKeys} holds no key; remove it, or list keys as name=sk-..., separated by commas or line breaks.");
        }

        return keys;
    }

    private static ConfigurationException Refuse(int position, string? name, string problem)
        => new($"{ConfigKeys.OpenAIApiKeys} entry {position}{(name is null ? "" : $" ({name})")} {problem}.");

    [GeneratedRegex(@"^[A-Za-z0-9._-]{1,32}$")]
    private static partial Regex ValidName();
}

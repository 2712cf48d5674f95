using System.Globalization;
using FcHandler.Access;
using FcHandler.Hosting;

namespace FcHandler.Limits;

/// <summary>
/// Reads and validates <see cref="LimitsOptions"/>. A limit that does not parse stops start-up with a message that
/// names the setting and the item: a typo must never leave a subject unlimited. The store's password never appears.
/// </summary>
internal static class LimitsOptionsReader
{
    public const long MaxOutputTokens = 10_000_000;

    public static LimitsOptions Read(IConfiguration configuration)
    {
        var defaults = new LimitsOptions();
        var store = configuration[ConfigKeys.LimitsStore]?.Trim();
        var timeout = Duration.Read(configuration, ConfigKeys.LimitsStoreTimeout) ?? defaults.StoreTimeout;
        if (timeout < TimeSpan.FromMilliseconds(10) || timeout > TimeSpan.FromSeconds(10))
        {
            throw new ConfigurationException($"{ConfigKeys.LimitsStoreTimeout} must be from 10ms to 10s, such as 250ms; got '{configuration[ConfigKeys.LimitsStoreTimeout]}'.");
        }

        return new LimitsOptions
        {
            Store = string.IsNullOrEmpty(store) || store.Equals("memory", StringComparison.OrdinalIgnoreCase)
                ? null
                : RedisStoreAddress.Parse(ConfigKeys.LimitsStore, store),
            FailureMode = ReadFailureMode(configuration[ConfigKeys.LimitsStoreFailure]),
            StoreTimeout = timeout,
            StoreCaFile = ReadCaFile(configuration[ConfigKeys.LimitsStoreCaFile]),
            Default = ReadSet(ConfigKeys.LimitsDefault, configuration[ConfigKeys.LimitsDefault]),
            BySubject = ReadBySubject(configuration[ConfigKeys.LimitsBySubject]),
            DefaultOutputTokens = ReadOutputTokens(configuration[ConfigKeys.LimitsDefaultOutputTokens]) ?? defaults.DefaultOutputTokens,
            UtcOffsetSeconds = ReadUtcOffset(configuration[ConfigKeys.LimitsUtcOffset]),
            FitCap = ReadFitCap(configuration[ConfigKeys.LimitsFitCap]),
        };
    }

    private static bool ReadFitCap(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "on" => true,
        "off" => false,
        _ => throw new ConfigurationException($"{ConfigKeys.LimitsFitCap} must be on (the default) or off; got '{value}'."),
    };

    private static StoreFailureMode ReadFailureMode(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "local" => StoreFailureMode.Local,
        "closed" => StoreFailureMode.Closed,
        _ => throw new ConfigurationException($"{ConfigKeys.LimitsStoreFailure} must be local (the default) or closed; got '{value}'."),
    };

    private static string? ReadCaFile(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var path = value.Trim();
        return File.Exists(path)
            ? path
            : throw new ConfigurationException($"{ConfigKeys.LimitsStoreCaFile} must name a readable PEM file, such as /code/certs/tair-ca.pem; '{path}' does not exist.");
    }

    private static LimitSet? ReadSet(string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        try
        {
            return LimitSet.Parse(value);
        }
        catch (FormatException exception)
        {
            throw new ConfigurationException($"{key} {exception.Message}.");
        }
    }

    // "static-1 rpm=60,budget=1M/month; alice none; key-3f2a... budget=100k/day": a subject, white space, its limits.
    private static Dictionary<string, LimitSet> ReadBySubject(string? value)
    {
        var bySubject = new Dictionary<string, LimitSet>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(value))
        {
            return bySubject;
        }

        var entries = value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < entries.Length; i++)
        {
            var space = entries[i].AsSpan().IndexOfAny(" \t");
            var subject = space < 0 ? entries[i] : entries[i][..space];
            if (space < 0 || !TokenScopes.IsValidSubject(subject))
            {
                throw new ConfigurationException(
                    $"{ConfigKeys.LimitsBySubject} entry {i + 1} must be a subject, a space and its limits, such as 'static-1 rpm=60,budget=1M/month'; entries are separated by ';'.");
            }

            var limits = ReadSet($"{ConfigKeys.LimitsBySubject} entry {i + 1} ({subject})", entries[i][(space + 1)..]);
            if (!bySubject.TryAdd(subject, limits!))
            {
                throw new ConfigurationException($"{ConfigKeys.LimitsBySubject} names {subject} twice (entry {i + 1}).");
            }
        }

        return bySubject;
    }

    private static long? ReadOutputTokens(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return long.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var tokens) && tokens is >= 1 and <= MaxOutputTokens
            ? tokens
            : throw new ConfigurationException($"{ConfigKeys.LimitsDefaultOutputTokens} must be a whole number of tokens from 1 to {MaxOutputTokens:N0}, such as 16384; got '{value}'.");
    }

    // +08:00, -05:30, Z or 0: where a budget's day starts. Whole quarters of an hour, as every time zone's offset is.
    private static int ReadUtcOffset(string? value)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text) || text is "Z" or "z" or "0")
        {
            return 0;
        }

        var sign = text[0] switch { '+' => 1, '-' => -1, _ => 0 };
        if (sign != 0 && TimeSpan.TryParseExact(text[1..], @"hh\:mm", CultureInfo.InvariantCulture, out var offset)
            && offset <= TimeSpan.FromHours(14) && offset.Minutes % 15 == 0)
        {
            return sign * (int)offset.TotalSeconds;
        }

        throw new ConfigurationException($"{ConfigKeys.LimitsUtcOffset} must be an offset from UTC such as +08:00 or -05:00 (or Z); got '{value}'.");
    }
}

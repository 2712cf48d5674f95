using System.Globalization;

namespace FcHandler.Hosting;

/// <summary>Parses the durations used in settings: <c>500ms</c>, <c>90s</c>, <c>8m</c>, <c>1h</c>, or plain seconds.</summary>
internal static class Duration
{
    /// <summary>The duration set under <paramref name="key"/>, or null when it is unset or blank (template.yml's "use the default").</summary>
    public static TimeSpan? Read(IConfiguration configuration, string key)
        => configuration[key] is { } value && !string.IsNullOrWhiteSpace(value) ? Parse(key, value) : null;

    public static TimeSpan Parse(string key, string value)
    {
        var text = value.Trim();
        var (digits, unit) = text.EndsWith("ms", StringComparison.OrdinalIgnoreCase)
            ? (text[..^2], TimeSpan.FromMilliseconds(1))
            : text.Length > 0 && char.IsLetter(text[^1])
                ? (text[..^1], UnitOf(text[^1]))
                : (text, TimeSpan.FromSeconds(1));

        if (unit == TimeSpan.Zero
            || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count <= 0
            || count > TimeSpan.FromDays(1) / unit)
        {
            throw new ConfigurationException(
                $"{key} must be a positive duration up to one day such as 500ms, 90s, 8m or 1h; got '{value}'.");
        }

        return unit * count;
    }

    private static TimeSpan UnitOf(char suffix) => char.ToLowerInvariant(suffix) switch
    {
        's' => TimeSpan.FromSeconds(1),
        'm' => TimeSpan.FromMinutes(1),
        'h' => TimeSpan.FromHours(1),
        _ => TimeSpan.Zero,
    };
}

using System.Globalization;
using System.Text;

namespace FcHandler.Limits;

/// <summary>
/// A subject's limits, written the same way wherever they come from (a signed token's claim, <c>LIMITS_BY_SUBJECT</c>,
/// <c>LIMITS_DEFAULT</c>): comma-separated <c>key=value</c> items, a key optionally scoped to a model in brackets.
/// <code>
/// rpm=60,tpm=200k,concurrency=4,budget=2M/month,rpm[o3*]=5,budget[gpt-4o]=500k/day
/// </code>
/// Keys: <c>rpm</c> and <c>tpm</c> (per 60 seconds), <c>concurrency</c> (open at once), <c>budget</c> (tokens per
/// <c>day</c>, <c>month</c> or in <c>total</c>). Counts take a <c>k</c> (thousand) or <c>M</c> (million) suffix.
/// <c>none</c> is an explicit "no limits", so a subject can be exempt from the default. <c>unmetered=</c> names the
/// classes of requests the proxy cannot meter (<see cref="SpendTable"/>) that a subject with a budget or a TPM limit may
/// still send, joined by <c>+</c> (<c>unmetered=batches+evals</c>, or <c>all</c>); without it they are refused.
/// </summary>
internal sealed class LimitSet
{
    public const string NoneText = "none";

    /// <summary>The largest count accepted: far beyond any real limit, and exact in the store's double-precision Lua numbers.</summary>
    public const long MaxCount = 1_000_000_000_000;

    public static readonly LimitSet None = new([], []);

    private const string UnmeteredKey = "unmetered";

    private LimitSet(LimitRule[] rules, string[] unmetered)
    {
        Rules = rules;
        Unmetered = unmetered;
        Text = rules.Length == 0 && unmetered.Length == 0 ? NoneText : Render(rules, unmetered);
    }

    /// <summary>The unmetered classes allowed (<see cref="SpendTable.UnmeteredClasses"/>, or <see cref="SpendTable.All"/>), in order.</summary>
    public IReadOnlyList<string> Unmetered { get; }

    /// <summary>Whether a request of the unmetered class <paramref name="name"/> may pass under this subject's budget or TPM limit.</summary>
    public bool AllowsUnmetered(string name) => Unmetered.Contains(SpendTable.All) || Unmetered.Contains(name);

    /// <summary>The rule over all requests first (when there is one), then one per model pattern.</summary>
    public IReadOnlyList<LimitRule> Rules { get; }

    /// <summary>The canonical text: what <c>token issue</c> puts in a token and <c>limits show</c> prints.</summary>
    public string Text { get; }

    public bool IsNone => Rules.Count == 0;

    /// <summary>The rules a request for <paramref name="model"/> is held to: the subject's own, and the most specific model rule (an exact id before the longest prefix).</summary>
    public LimitRule[] For(string? model)
    {
        LimitRule? all = null;
        LimitRule? scoped = null;
        foreach (var rule in Rules)
        {
            if (rule.Model is null)
            {
                all = rule;
            }
            else if (model is not null && rule.Matches(model) && (scoped is null || MoreSpecific(rule, scoped)))
            {
                scoped = rule;
            }
        }

        return (all, scoped) switch
        {
            (null, null) => [],
            (null, { } only) => [only],
            ({ } only, null) => [only],
            ({ } first, { } second) => [first, second],
        };
    }

    private static bool MoreSpecific(LimitRule candidate, LimitRule current)
        => !candidate.Model!.EndsWith('*') || (current.Model!.EndsWith('*') && candidate.Model.Length > current.Model.Length);

    /// <summary>Parses <paramref name="text"/>; a <see cref="FormatException"/> says which item is wrong and how, never more of the text.</summary>
    public static LimitSet Parse(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Equals(NoneText, StringComparison.OrdinalIgnoreCase))
        {
            return None;
        }

        var rules = new Dictionary<string, LimitRule>(StringComparer.Ordinal);
        string[]? unmetered = null;
        var items = trimmed.Split(',', StringSplitOptions.TrimEntries);
        if (items is [""])
        {
            throw new FormatException($"is empty; write limits such as rpm=60,budget=1M/month, or {NoneText}");
        }

        foreach (var item in items)
        {
            var (key, model, value) = SplitItem(item);
            if (key == UnmeteredKey)
            {
                unmetered = unmetered is null && model is null
                    ? UnmeteredClasses(item, value)
                    : throw new FormatException(model is null ? "sets unmetered twice; join its classes with +, such as unmetered=batches+evals" : $"has '{item}': unmetered applies to a subject, not to a model");
                continue;
            }

            var scope = model ?? "";
            var rule = rules.TryGetValue(scope, out var existing) ? existing : new LimitRule { Model = model };
            rules[scope] = key switch
            {
                "rpm" when rule.RequestsPerMinute is null => rule with { RequestsPerMinute = Count(item, value) },
                "tpm" when rule.TokensPerMinute is null => rule with { TokensPerMinute = Count(item, value) },
                "concurrency" when rule.Concurrency is null => rule with { Concurrency = Count(item, value) },
                "budget" when rule.Budget is null => Budget(rule, item, value),
                "rpm" or "tpm" or "concurrency" or "budget" => throw new FormatException($"sets {key}{(model is null ? "" : $"[{model}]")} twice"),
                _ => throw new FormatException($"has an unknown key in '{item}'; the keys are rpm, tpm, concurrency, budget and unmetered"),
            };
        }

        return new LimitSet([.. rules.Values.OrderBy(rule => rule.Model is not null).ThenBy(rule => rule.Model, StringComparer.Ordinal)], unmetered ?? []);
    }

    private static string[] UnmeteredClasses(string item, string value)
    {
        var names = value.Split('+', StringSplitOptions.TrimEntries).Select(name => name.ToLowerInvariant()).ToArray();
        foreach (var name in names)
        {
            if (name != SpendTable.All && Array.IndexOf(SpendTable.UnmeteredClasses, name) < 0)
            {
                throw new FormatException(
                    $"has '{item}': '{name}' is not a class of unmetered requests; the classes are {string.Join(", ", SpendTable.UnmeteredClasses)}, or all");
            }
        }

        return [.. names.Distinct().Order(StringComparer.Ordinal)];
    }

    /// <summary>Like <see cref="Parse"/>, for text that was valid when it was written (a signed token's claim): null if it no longer is.</summary>
    public static LimitSet? TryParse(string? text)
    {
        if (text is null)
        {
            return null;
        }

        try
        {
            return Parse(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static (string Key, string? Model, string Value) SplitItem(string item)
    {
        var equals = item.IndexOf('=');
        if (equals <= 0 || equals == item.Length - 1)
        {
            throw new FormatException($"has '{item}' where key=value was expected, such as rpm=60");
        }

        var key = item[..equals].Trim();
        var value = item[(equals + 1)..].Trim();
        string? model = null;
        var bracket = key.IndexOf('[');
        if (bracket >= 0)
        {
            if (!key.EndsWith(']') || bracket == 0)
            {
                throw new FormatException($"has '{item}': a model scope is written key[model]=value, such as rpm[gpt-4o*]=10");
            }

            model = key[(bracket + 1)..^1];
            key = key[..bracket];
            if (!IsValidModelPattern(model))
            {
                throw new FormatException($"has '{item}': the model must be an id or a prefix ending in *, without spaces, commas, brackets or '='");
            }
        }

        return (key.ToLowerInvariant(), model, value);
    }

    // Model ids have no spaces, commas or brackets (fine-tuned ones have colons: ft:gpt-4o-mini:org::id). A * only ends a prefix.
    private static bool IsValidModelPattern(string model)
    {
        if (model.Length is 0 or > 128 || model.AsSpan().IndexOfAny(" \t\r\n,;=[]") >= 0)
        {
            return false;
        }

        var star = model.IndexOf('*');
        return star < 0 || (star == model.Length - 1 && model.Length > 1);
    }

    private static LimitRule Budget(LimitRule rule, string item, string value)
    {
        var slash = value.IndexOf('/');
        if (slash < 0)
        {
            throw new FormatException($"has '{item}': a budget names its period, such as budget=2M/month, budget=100k/day or budget=5M/total");
        }

        var period = value[(slash + 1)..].Trim().ToLowerInvariant() switch
        {
            "day" => BudgetPeriod.Day,
            "month" => BudgetPeriod.Month,
            "total" => BudgetPeriod.Total,
            _ => throw new FormatException($"has '{item}': the period must be day, month or total"),
        };
        return rule with { Budget = Count(item, value[..slash]), BudgetPeriod = period };
    }

    private static long Count(string item, string value)
    {
        var text = value.Trim();
        var multiplier = text.Length > 1 ? char.ToLowerInvariant(text[^1]) switch
        {
            'k' => 1_000L,
            'm' => 1_000_000L,
            _ => 1L,
        } : 1L;
        var digits = multiplier == 1 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count > MaxCount / multiplier)
        {
            throw new FormatException($"has '{item}': the value must be a whole number from 0 to {MaxCount:N0}, optionally with k or M, such as 60, 200k or 2M");
        }

        return count * multiplier;
    }

    private static string Render(LimitRule[] rules, string[] unmetered)
    {
        var text = new StringBuilder();
        foreach (var rule in rules)
        {
            var scope = rule.Model is null ? "" : $"[{rule.Model}]";
            Append(text, "rpm", scope, rule.RequestsPerMinute);
            Append(text, "tpm", scope, rule.TokensPerMinute);
            Append(text, "concurrency", scope, rule.Concurrency);
            if (rule.Budget is { } budget)
            {
                Append(text, "budget", scope, budget);
                text.Append('/').Append(rule.BudgetPeriod.ToString().ToLowerInvariant());
            }
        }

        if (unmetered.Length > 0)
        {
            text.Append(text.Length == 0 ? "" : ",").Append(UnmeteredKey).Append('=').AppendJoin('+', unmetered);
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, string key, string scope, long? value)
    {
        if (value is { } count)
        {
            text.Append(text.Length == 0 ? "" : ",").Append(key).Append(scope).Append('=').Append(count.ToString(CultureInfo.InvariantCulture));
        }
    }

    public override string ToString() => Text;
}

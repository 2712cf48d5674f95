using System.Buffers;
using FcHandler.Proxy;

namespace FcHandler.Access;

/// <summary>The vocabulary of token claims, checked the same way when a token is issued and when it is presented.</summary>
internal static class TokenScopes
{
    public const string Generation = "generation";
    public const string PassThrough = "pass-through";
    public const string Realtime = "realtime";
    public const int MaxSubjectLength = 64;
    public const int MaxModelLength = 128;

    // Plain characters only: a subject lands in log lines, and nothing in it may start a new one.
    private static readonly SearchValues<char> SubjectChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@:-");

    /// <summary>base64url's alphabet: token ids, and the random part of OpenAI's ephemeral keys (<c>ek_...</c>).</summary>
    public static readonly SearchValues<char> UrlSafeChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    public static bool IsValidSubject(string? subject)
        => subject is { Length: > 0 and <= MaxSubjectLength } && subject.AsSpan().IndexOfAnyExcept(SubjectChars) < 0;

    public static bool IsValidId(string? id) => id is { Length: > 0 and <= 64 } && id.AsSpan().IndexOfAnyExcept(UrlSafeChars) < 0;

    public static bool IsValidModel(string? model)
        => model is { Length: > 0 and <= MaxModelLength } && model.AsSpan().IndexOfAny(" \t\r\n,") < 0;

    public static RouteClass? ParseRoute(string name) => name switch
    {
        Generation => RouteClass.Generation,
        PassThrough => RouteClass.PassThrough,
        Realtime => RouteClass.Realtime,
        _ => null,
    };

    /// <summary>The routes named, or null if any name is unknown.</summary>
    public static RouteClass[]? ParseRoutes(IEnumerable<string> names)
    {
        var routes = new List<RouteClass>();
        foreach (var name in names)
        {
            if (ParseRoute(name) is not { } route)
            {
                return null;
            }

            routes.Add(route);
        }

        return [.. routes];
    }

    /// <summary>An exact model id, or a prefix ending in <c>*</c> (<c>gpt-4o*</c> admits dated snapshots too).</summary>
    public static bool ModelMatches(string pattern, string model) => pattern.EndsWith('*')
        ? model.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
        : model.Equals(pattern, StringComparison.Ordinal);
}

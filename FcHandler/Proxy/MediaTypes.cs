namespace FcHandler.Proxy;

/// <summary>The media type of a <c>Content-Type</c>, and whether it is JSON, as every reader of bodies asks it.</summary>
internal static class MediaTypes
{
    /// <summary>The media type of a <c>Content-Type</c> value, without its parameters (<c>; charset=...</c>).</summary>
    public static ReadOnlySpan<char> Of(string contentType)
    {
        var semicolon = contentType.IndexOf(';');
        return (semicolon < 0 ? contentType.AsSpan() : contentType.AsSpan(0, semicolon)).Trim();
    }

    /// <summary><c>application/json</c> or a <c>+json</c> type such as <c>application/problem+json</c>.</summary>
    public static bool IsJson(ReadOnlySpan<char> mediaType)
        => mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
}

namespace FcHandler.Proxy;

/// <summary>
/// Makes a request's path canonical before anything classifies it: runs of slashes become one, and a trailing slash
/// goes. <c>/v1//chat/completions</c> and <c>/v1/chat/completions/</c> are then the route they name, metered, scoped
/// and logged as such, instead of falling through to the pass-through class (docs/limits.md). The upstream gets the
/// canonical path too; OpenAI's routes have neither empty segments nor trailing slashes. A client whose base URL ends
/// in a slash (<c>https://host/v1/</c> joined to <c>/chat/completions</c>) keeps working. Dot-segments and encoded
/// slashes are <see cref="RequestTarget"/>'s to refuse. The usual path is only looked at, never copied.
/// </summary>
internal static class CanonicalPath
{
    public static Func<HttpContext, RequestDelegate, Task> Apply { get; } = static (context, next) =>
    {
        var path = context.Request.Path.Value;
        if (path is { Length: > 1 } && (path.EndsWith('/') || path.Contains("//", StringComparison.Ordinal)))
        {
            context.Request.Path = new PathString(Of(path));
        }

        return next(context);
    };

    /// <summary>The path with each run of slashes made one and no trailing slash (<c>/</c> stays <c>/</c>).</summary>
    public static string Of(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return "/" + string.Join('/', segments);
    }
}

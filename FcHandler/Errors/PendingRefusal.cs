namespace FcHandler.Errors;

/// <summary>
/// An answer decided by a step that runs before the access log and CORS (FC's drain refuses new requests there), and
/// written once they have run: the refusal gets its access line and its CORS headers like any other answer.
/// </summary>
internal sealed class PendingRefusal(ProxyError error)
{
    public ProxyError Error { get; } = error;

    /// <summary>The step, right after CORS, that writes a pending refusal instead of going on.</summary>
    public static RequestDelegate AnswerFirst(RequestDelegate next)
        => context => context.Features.Get<PendingRefusal>() is { } refusal ? ErrorWriter.WriteAsync(context, refusal.Error) : next(context);
}

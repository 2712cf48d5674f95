namespace FcHandler.Keys;

/// <summary>
/// One request's use of the key pool: whose it is, and, once sent, which key served it and how many were tried (for the
/// access line). Admission sets it as an <see cref="HttpContext"/> feature in server-key mode; the transformer hands it
/// to <see cref="KeyPoolHandler"/> on the upstream request.
/// </summary>
internal sealed class KeyAttempt(string subject)
{
    public static readonly HttpRequestOptionsKey<KeyAttempt> Option = new("fchandler.key-attempt");

    /// <summary>The subject whose affinity chooses the key.</summary>
    public string Subject { get; } = subject;

    /// <summary>The request body as forwarded (buffered, so seekable), to send again to another key; null without one.</summary>
    public Stream? Body { get; set; }

    /// <summary>The trace id, for the cooldown log lines.</summary>
    public string RequestId { get; set; } = "";

    /// <summary>The key of the last attempt: the one that served, or the last one refused.</summary>
    public UpstreamKey? Served { get; set; }

    /// <summary>Keys tried, over every send of the request.</summary>
    public int Tried { get; set; }
}

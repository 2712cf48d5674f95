using FcHandler.Proxy;

namespace FcHandler.Limits;

/// <summary>
/// What a request can spend, for a subject whose tokens are counted (a budget or a TPM limit). Every request falls into
/// one of three kinds:
/// <list type="bullet">
/// <item><see cref="SpendKind.Free"/>: reads, deletes, and the few writes that run no model (uploading a file, creating
/// a conversation, cancelling a job). Forwarded and charged nothing.</item>
/// <item><see cref="SpendKind.Metered"/>: the requests the proxy bounds before forwarding and settles from the usage
/// OpenAI reports (<see cref="RequestCost"/>); the Realtime and Responses WebSockets, metered per response.</item>
/// <item><see cref="SpendKind.Unmetered"/>: requests that run models whose cost the proxy cannot bound or never sees:
/// a batch of up to 50,000 requests, a fine-tuning job, an Assistants run, an eval run, a video, a container, a vector
/// store's storage, ephemeral keys and WebRTC calls whose sessions bypass the proxy, and any write OpenAI adds that this
/// table does not know. Refused by default; a subject's limits may allow a class by name (<c>unmetered=batches</c>).</item>
/// </list>
/// The classes follow OpenAI's API reference (https://platform.openai.com/docs/api-reference). Paths are canonical here
/// (<see cref="Proxy.CanonicalPath"/>), so <c>/v1//batches</c> and <c>/v1/batches/</c> are <c>/v1/batches</c>.
/// </summary>
internal static class SpendTable
{
    /// <summary>The names <c>unmetered=</c> takes, each a class of requests below.</summary>
    public static readonly string[] UnmeteredClasses =
        [Batches, FineTuning, Assistants, Evals, Videos, Containers, VectorStores, RealtimeKeys, RealtimeCalls, StoredInput, HostedTools, Other];

    public const string Batches = "batches";
    public const string FineTuning = "fine_tuning";
    public const string Assistants = "assistants";
    public const string Evals = "evals";
    public const string Videos = "videos";
    public const string Containers = "containers";
    public const string VectorStores = "vector_stores";
    public const string RealtimeKeys = "realtime_keys";
    public const string RealtimeCalls = "realtime_calls";

    /// <summary>A metered request whose input is stored or remote, not in its body (<see cref="UnboundedInputScan"/>).</summary>
    public const string StoredInput = "stored_input";

    /// <summary>A metered request that uses a tool OpenAI runs itself (<see cref="UnboundedInputScan"/>).</summary>
    public const string HostedTools = "hosted_tools";

    /// <summary>Any write this table does not know: OpenAI's next endpoint may run a model.</summary>
    public const string Other = "other";

    /// <summary>Every unmetered class at once.</summary>
    public const string All = "all";

    // Writes that bound their cost before they run: RequestCost reads their body, and their answer reports usage.
    private static readonly string[] MeteredPaths =
    [
        "/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/embeddings", "/v1/moderations",
        "/v1/audio/speech", "/v1/audio/transcriptions", "/v1/audio/translations",
        "/v1/images/generations", "/v1/images/edits", "/v1/images/variations",
        "/v1/edits", "/v1/answers", // retired: OpenAI answers 404 and charges nothing
    ];

    /// <summary>A read or a delete: free by its method alone, whatever the path.</summary>
    public static bool IsRead(string method)
        => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsDelete(method) || HttpMethods.IsOptions(method);

    /// <summary>The kind of <paramref name="method"/> on <paramref name="path"/>, and for an unmetered one its class.</summary>
    public static (SpendKind Kind, string? Class) Of(string method, string path)
    {
        if (IsRead(method))
        {
            return (SpendKind.Free, null); // reads and deletes run no model
        }

        if (Array.IndexOf(MeteredPaths, path) >= 0 || IsEngineOperation(path))
        {
            return (SpendKind.Metered, null);
        }

        var segments = path.Split('/'); // "", "v1", ...
        var s = segments.Length > 2 && segments[1] == "v1" ? segments[2..] : [];
        var free = (SpendKind.Free, (string?)null);
        return s switch
        {
            // Files and uploads store bytes; conversations store items; none of them runs a model.
            ["files"] or ["uploads", ..] or ["conversations", ..] => free,

            // Responses: counting input tokens, cancelling a background response. Compacting runs a model: not here.
            ["responses", "input_tokens"] or ["responses", _, "cancel"] => free,

            // A stored chat completion's metadata.
            ["chat", "completions", _] => free,

            // Cancelling or pausing stops spending; everything else of these starts or resumes it.
            ["batches", _, "cancel"] => free,
            ["batches", ..] => Unmetered(Batches),
            ["fine_tuning", "jobs", _, "cancel" or "pause"] => free,
            ["fine_tuning", "checkpoints", ..] => free, // sharing permissions
            ["fine_tuning", ..] => Unmetered(FineTuning),

            // Assistants: defining assistants, threads and messages is free; a run is a model call the proxy never bounds.
            ["threads", "runs"] => Unmetered(Assistants),
            ["threads", _, "runs", _, "cancel"] => free,
            ["threads", _, "runs", ..] => Unmetered(Assistants),
            ["assistants", ..] or ["threads", ..] => free,

            // Evals: defining one is free; its runs call models. POST .../runs/{id} cancels a run.
            ["evals", _, "runs", _] => free,
            ["evals", _, "runs", ..] => Unmetered(Evals),
            ["evals", ..] => free,

            ["videos", ..] => Unmetered(Videos),
            ["containers", ..] => Unmetered(Containers),
            ["vector_stores", ..] => Unmetered(VectorStores),

            // Ephemeral keys: the session they open talks to OpenAI directly, billed to the function's key.
            ["realtime", "client_secrets" or "sessions" or "transcription_sessions"] => Unmetered(RealtimeKeys),
            ["realtime", "calls", ..] => Unmetered(RealtimeCalls), // WebRTC and SIP: the media never passes the proxy

            _ => Unmetered(Other),
        };
    }

    private static (SpendKind, string?) Unmetered(string name) => (SpendKind.Unmetered, name);

    // "/v1/engines/{id}/{operation}": the legacy form of the generation endpoints, metered like them. The route table
    // knows which operations those are.
    private static bool IsEngineOperation(string path)
        => path.StartsWith("/v1/engines/", StringComparison.Ordinal) && RouteTable.Classify(path) == RouteClass.Generation;
}

/// <summary>See <see cref="SpendTable"/>.</summary>
internal enum SpendKind
{
    Free,
    Metered,
    Unmetered,
}

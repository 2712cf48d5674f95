namespace FcHandler.Proxy;

/// <summary>
/// The route table: which paths are forwarded, and with which policy. First matching row wins.
/// A new OpenAI endpoint that needs the generation policy is one row here plus a test row.
/// Matching is ordinal on the decoded path (<see cref="HttpRequest.Path"/>), after <see cref="RequestTarget"/>
/// has refused anything that could escape <c>/v1</c>; it allocates nothing.
/// </summary>
internal static class RouteTable
{
    private enum Match
    {
        /// <summary>The path equals the pattern.</summary>
        Exact,

        /// <summary>The path equals the pattern or continues below it with '/'.</summary>
        Subtree,

        /// <summary>Legacy <c>/v1/engines/{id}/{operation}</c>, with the pattern as the operation.</summary>
        EngineOperation,
    }

    private readonly record struct Row(Match Match, string Pattern, RouteClass Class);

    private const string EnginesPrefix = "/v1/engines/";

    private static readonly Row[] Rows =
    [
        new(Match.Exact, "/healthz", RouteClass.Health),

        new(Match.Exact, "/v1/chat/completions", RouteClass.Generation),
        new(Match.Exact, "/v1/completions", RouteClass.Generation),
        new(Match.Subtree, "/v1/responses", RouteClass.Generation),
        new(Match.Exact, "/v1/embeddings", RouteClass.Generation),
        new(Match.Exact, "/v1/moderations", RouteClass.Generation),
        new(Match.Subtree, "/v1/audio", RouteClass.Generation),
        new(Match.Subtree, "/v1/images", RouteClass.Generation),
        // Retired endpoints the original nginx design listed; kept so old clients get OpenAI's own answer.
        new(Match.Exact, "/v1/edits", RouteClass.Generation),
        new(Match.Exact, "/v1/answers", RouteClass.Generation),
        new(Match.EngineOperation, "chat/completions", RouteClass.Generation),
        new(Match.EngineOperation, "completions", RouteClass.Generation),
        new(Match.EngineOperation, "embeddings", RouteClass.Generation),
        new(Match.EngineOperation, "moderations", RouteClass.Generation),
        new(Match.EngineOperation, "edits", RouteClass.Generation),
        new(Match.EngineOperation, "answers", RouteClass.Generation),
        new(Match.EngineOperation, "search", RouteClass.Generation),

        // The WebSocket, client_secrets (ephemeral keys), calls (WebRTC), and the beta sessions endpoints.
        new(Match.Subtree, "/v1/realtime", RouteClass.Realtime),

        // Models, files, batches, fine_tuning, uploads, vector_stores, assistants, organization, and whatever
        // OpenAI adds next: forwarded, so the proxy never lags behind the API.
        new(Match.Subtree, "/v1", RouteClass.PassThrough),
    ];

    public static RouteClass Classify(ReadOnlySpan<char> path)
    {
        foreach (var row in Rows)
        {
            if (Matches(row, path))
            {
                return row.Class;
            }
        }

        return RouteClass.Rejected;
    }

    private static bool Matches(in Row row, ReadOnlySpan<char> path) => row.Match switch
    {
        Match.Exact => path.SequenceEqual(row.Pattern),
        Match.Subtree => path.StartsWith(row.Pattern, StringComparison.Ordinal)
            && (path.Length == row.Pattern.Length || path[row.Pattern.Length] == '/'),
        Match.EngineOperation => IsEngineOperation(path, row.Pattern),
        _ => false,
    };

    // "/v1/engines/" + one non-empty segment + "/" + operation
    private static bool IsEngineOperation(ReadOnlySpan<char> path, string operation)
    {
        if (!path.StartsWith(EnginesPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = path[EnginesPrefix.Length..];
        var slash = rest.IndexOf('/');
        return slash > 0 && rest[(slash + 1)..].SequenceEqual(operation);
    }
}

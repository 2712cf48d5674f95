namespace FcHandler.Proxy;

/// <summary>What is wrong with a request target, if anything.</summary>
internal enum TargetProblem
{
    None,

    /// <summary>Not origin-form (<c>/path?query</c>): an absolute URL, an authority (CONNECT) or <c>*</c>.</summary>
    NotOriginForm,

    /// <summary>A <c>.</c> or <c>..</c> segment, literal or percent-encoded (once or more), an encoded slash or a backslash.</summary>
    PathTraversal,
}

/// <summary>
/// Checks the raw request target as the client sent it, before anything decodes it. Kestrel resolves dot-segments
/// and decodes the path it gives the app, so <c>/v1/../admin</c> and <c>/v1/%2e%2e/admin</c> would otherwise
/// arrive looking harmless; an upstream or a later decoder could still resolve them. The proxy refuses them
/// instead of guessing which reading the upstream takes. Normal paths are checked without allocating.
/// </summary>
internal static class RequestTarget
{
    // Enough to see through %252e%252e (double encoding) and one more layer.
    private const int MaxDecodingPasses = 3;

    public static TargetProblem Check(string rawTarget)
    {
        if (rawTarget.Length == 0 || rawTarget[0] != '/')
        {
            return TargetProblem.NotOriginForm;
        }

        var query = rawTarget.IndexOf('?');
        var path = query < 0 ? rawTarget : rawTarget[..query];

        if (!path.Contains('%'))
        {
            return HasTraversal(path) ? TargetProblem.PathTraversal : TargetProblem.None;
        }

        return HasEncodedTraversal(path) ? TargetProblem.PathTraversal : TargetProblem.None;
    }

    private static bool HasEncodedTraversal(string path)
    {
        var slashes = path.AsSpan().Count('/');
        var current = path;
        for (var pass = 0; pass <= MaxDecodingPasses; pass++)
        {
            // A slash that appears only after decoding was %2F: it would split or join segments differently
            // depending on who decodes.
            if (HasTraversal(current) || current.AsSpan().Count('/') != slashes)
            {
                return true;
            }

            if (!current.Contains('%'))
            {
                return false;
            }

            var decoded = Uri.UnescapeDataString(current);
            if (decoded == current)
            {
                return false;
            }

            current = decoded;
        }

        // Still encoded after several passes: nobody legitimate sends that.
        return true;
    }

    private static bool HasTraversal(ReadOnlySpan<char> path)
    {
        if (path.Contains('\\'))
        {
            return true;
        }

        foreach (var range in path.Split('/'))
        {
            var segment = path[range];
            if (segment is "." or "..")
            {
                return true;
            }
        }

        return false;
    }
}

using System.Buffers;

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

        // A span, not a substring: a query string must not cost an allocation per request.
        var path = rawTarget.AsSpan();
        var query = path.IndexOf('?');
        if (query >= 0)
        {
            path = path[..query];
        }

        if (!path.Contains('%'))
        {
            return HasTraversal(path) ? TargetProblem.PathTraversal : TargetProblem.None;
        }

        return HasEncodedTraversal(path) ? TargetProblem.PathTraversal : TargetProblem.None;
    }

    private static bool HasEncodedTraversal(ReadOnlySpan<char> path)
    {
        // Decoding never lengthens the text, so each pass decodes into one half of a buffer while the previous
        // result stays in the other: no string per pass.
        char[]? rented = null;
        var buffer = path.Length <= 256
            ? stackalloc char[path.Length * 2]
            : (rented = ArrayPool<char>.Shared.Rent(path.Length * 2));
        try
        {
            var slashes = path.Count('/');
            scoped var current = path;
            var next = buffer[..path.Length];
            var spare = buffer.Slice(path.Length, path.Length);
            for (var pass = 0; pass <= MaxDecodingPasses; pass++)
            {
                // A slash that appears only after decoding was %2F: it would split or join segments differently
                // depending on who decodes.
                if (HasTraversal(current) || current.Count('/') != slashes)
                {
                    return true;
                }

                if (!current.Contains('%'))
                {
                    return false;
                }

                if (!Uri.TryUnescapeDataString(current, next, out var written) || next[..written].SequenceEqual(current))
                {
                    return false;
                }

                current = next[..written];
                var decodedInto = next;
                next = spare;
                spare = decodedInto;
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
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

namespace FcHandler.Usage;

/// <summary>
/// Adds members to the start of a buffered JSON object body, without copying the body: only its first bytes are read,
/// and the body becomes those bytes, the members, and the rest as it was (<see cref="PrefixedReadStream"/>). The body
/// stays seekable and rewound, so steps that insert one after another each see the body as it now is.
/// </summary>
internal static class JsonBodyInsertion
{
    /// <summary>Inserts <paramref name="members"/> (such as <c>"a":1,</c>, with its trailing comma) after the opening brace.</summary>
    /// <returns>False, and the body unchanged, when the body does not start with an object.</returns>
    public static async Task<bool> InsertAsync(HttpRequest request, ReadOnlyMemory<byte> members, CancellationToken cancellationToken)
    {
        // The object is not empty (the caller found a member in it), so a trailing comma fits.
        var start = new byte[Math.Min(request.ContentLength ?? 0, 64)];
        request.Body.Position = 0;
        var read = await request.Body.ReadAtLeastAsync(start, start.Length, throwOnEndOfStream: false, cancellationToken);
        var brace = start.AsSpan(0, read).IndexOfAnyExcept(" \t\r\n"u8);
        if (brace < 0 || start[brace] != (byte)'{')
        {
            request.Body.Position = 0;
            return false;
        }

        var prefix = new byte[brace + 1 + members.Length];
        start.AsSpan(0, brace + 1).CopyTo(prefix);
        members.Span.CopyTo(prefix.AsSpan(brace + 1));
        request.Body.Position = brace + 1;
        request.Body = new PrefixedReadStream(prefix, request.Body);
        request.ContentLength += members.Length;
        return true;
    }
}

using System.Buffers;
using System.Text;
using FcHandler.Proxy;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace FcHandler.Access;

/// <summary>
/// Finds the model a request names, for model-scoped tokens and the access line: the top-level <c>model</c> of a JSON body, the
/// <c>model</c> field of a multipart form (audio transcriptions, image edits), or the engine of a legacy
/// <c>/v1/engines/{id}/...</c> path. Realtime requests may name it in <c>session.model</c> instead (ephemeral keys from
/// <c>/v1/realtime/client_secrets</c>); there the whole body is read, and two models that differ make it unreadable.
/// Reads the already buffered body as a stream, up to the model and no further (a realtime body to its end), so memory
/// stays bounded by the largest single JSON value, and leaves it rewound for forwarding.
/// </summary>
internal static class ModelReader
{
    private const string EnginesPrefix = "/v1/engines/";
    private const int MaxFormFieldBytes = 256;
    private const int MaxSessionFieldBytes = 64 * 1024;

    /// <summary>What the request names: a model, none (<see cref="Outcome.None"/>), or something unreadable.</summary>
    public enum Outcome
    {
        None,
        Found,
        Unreadable,
    }

    /// <param name="request">The request, its body buffered.</param>
    /// <param name="cancellationToken">The request's.</param>
    /// <param name="realtime">A Realtime request, which may name its model in <c>session.model</c>.</param>
    /// <param name="strict">
    /// Read the whole body, and call a body that names two different models unreadable: where the model decides what a
    /// client may do (a model-scoped token, a model's limits), a second <c>"model"</c> after the first must not pass, since
    /// OpenAI would take the last one. Otherwise the read stops at the first model, all the access line needs.
    /// </param>
    public static async Task<(Outcome Outcome, string? Model)> ReadAsync(
        HttpRequest request, CancellationToken cancellationToken, bool realtime = false, bool strict = false)
    {
        var read = await ReadNamedAsync(request, cancellationToken, realtime, strict);
        return (read.Outcome, read.Model);
    }

    /// <summary>
    /// As <see cref="ReadAsync"/>, and when a multipart body can be read two ways (see <see cref="MultipartAmbiguity"/>),
    /// what is ambiguous, with <see cref="Outcome.Unreadable"/>.
    /// </summary>
    public static async Task<ModelRead> ReadNamedAsync(
        HttpRequest request, CancellationToken cancellationToken, bool realtime = false, bool strict = false)
    {
        var path = request.Path.Value ?? "";
        if (path.StartsWith(EnginesPrefix, StringComparison.Ordinal))
        {
            // The engine is the model; a body naming another one would be ambiguous.
            var engine = path[EnginesPrefix.Length..].Split('/')[0];
            return new(Outcome.Found, engine);
        }

        if (request.ContentLength is null or 0 || !request.Body.CanSeek)
        {
            return new(Outcome.None, null);
        }

        try
        {
            var contentType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed : null;
            if (contentType?.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true)
            {
                return MultipartAmbiguity.OfContentType(contentType) is { } ambiguity
                    ? new(Outcome.Unreadable, null, ambiguity)
                    : await ReadFormFieldAsync(request.Body, HeaderUtilities.RemoveQuotes(contentType.Boundary).Value, realtime, strict, cancellationToken);
            }

            // Only JSON names a model in the body; other bodies (file parts, binary uploads) name none.
            return IsJson(contentType) ? await ReadJsonPropertyAsync(request.Body, realtime, strict, cancellationToken) : new(Outcome.None, null);
        }
        finally
        {
            request.Body.Position = 0;
        }
    }

    private static bool IsJson(MediaTypeHeaderValue? contentType)
        => contentType is null || MediaTypes.IsJson(contentType.MediaType.AsSpan());

    /// <summary>A body of this Content-Type is read as JSON (none counts as JSON, as OpenAI reads it).</summary>
    public static bool IsJson(string? contentType)
        => IsJson(MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed : null);

    // The form field "model" (transcriptions, image edits); for Realtime calls also the "session" field, the JSON session
    // whose top-level "model" OpenAI takes (https://developers.openai.com/api/reference/ruby/resources/realtime/subresources/calls/methods/create).
    private static async Task<ModelRead> ReadFormFieldAsync(
        Stream body, string? boundary, bool realtime, bool strict, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(boundary))
        {
            return new(Outcome.Unreadable, null);
        }

        try
        {
            string? found = null;
            var reader = new MultipartReader(boundary, body) { BodyLengthLimit = null };
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (MultipartAmbiguity.OfPart(section) is { } ambiguity)
                {
                    return new(Outcome.Unreadable, null, ambiguity);
                }

                var name = section.GetContentDispositionHeader() is { } disposition && disposition.IsFormDisposition()
                    ? HeaderUtilities.RemoveQuotes(disposition.Name).Value
                    : null;
                var model = name switch
                {
                    "model" => await ReadFieldAsync(section.Body, MaxFormFieldBytes, cancellationToken) is { } text ? text.Trim() : null,
                    "session" when realtime => await ReadSessionModelAsync(section.Body, cancellationToken),
                    _ => "",
                };
                if (model is "")
                {
                    continue; // another field, or a session that names no model
                }

                if (model is null || (found is not null && found != model))
                {
                    return new(Outcome.Unreadable, null);
                }

                if (!strict && !realtime)
                {
                    return new(Outcome.Found, model);
                }

                found = model;
            }

            return found is null ? new(Outcome.None, null) : new(Outcome.Found, found);
        }
        catch (InvalidDataException)
        {
            return new(Outcome.Unreadable, null);
        }
    }

    /// <summary>The field's text, or null when it is longer than <paramref name="limit"/> bytes.</summary>
    private static async Task<string?> ReadFieldAsync(Stream field, int limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[limit + 1];
        var length = await field.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        return length > limit ? null : Encoding.UTF8.GetString(buffer, 0, length);
    }

    // A session's model: "" when it names none, null when it cannot be read (too long, not a JSON object, two models).
    private static async Task<string?> ReadSessionModelAsync(Stream field, CancellationToken cancellationToken)
    {
        if (await ReadFieldAsync(field, MaxSessionFieldBytes, cancellationToken) is not { } session)
        {
            return null;
        }

        var scan = new JsonTopLevelScan(wholeObject: true);
        scan.Advance(Encoding.UTF8.GetBytes(session), final: true);
        return scan.Outcome switch
        {
            Outcome.Found => scan.Model,
            Outcome.None => "",
            _ => null,
        };
    }

    private static async Task<ModelRead> ReadJsonPropertyAsync(Stream body, bool realtime, bool strict, CancellationToken cancellationToken)
    {
        var scan = new JsonTopLevelScan(wholeObject: strict, realtime);
        await ScanAsync(body, scan, cancellationToken);
        return new(scan.Outcome ?? Outcome.Unreadable, scan.Model);
    }

    /// <summary>
    /// For <c>CHAT_STREAM_USAGE=always</c>: whether a JSON body asks for a stream (<c>"stream": true</c>) and whether it
    /// already has <c>stream_options</c>. Reads the whole top-level object; leaves the body rewound.
    /// </summary>
    public static async Task<(bool Stream, bool HasStreamOptions)> ReadStreamFieldsAsync(HttpRequest request, CancellationToken cancellationToken)
        => await ReadTopLevelAsync(request, cancellationToken) is { } scan ? (scan.Stream, scan.HasStreamOptions) : (false, false);

    /// <summary>
    /// The whole top-level object of a JSON body, scanned (model, stream fields, output caps); null when the body is not
    /// a readable JSON object. Leaves the body rewound.
    /// </summary>
    public static async Task<JsonTopLevelScan?> ReadTopLevelAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var contentType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed : null;
        if (request.ContentLength is null or 0 || !request.Body.CanSeek || !IsJson(contentType))
        {
            return null;
        }

        try
        {
            request.Body.Position = 0;
            var scan = new JsonTopLevelScan(wholeObject: true);
            await ScanAsync(request.Body, scan, cancellationToken);
            return scan.Outcome is Outcome.Unreadable or null ? null : scan;
        }
        finally
        {
            request.Body.Position = 0;
        }
    }

    /// <summary>Feeds <paramref name="body"/> to <paramref name="scan"/> from where it is until the scan is done.</summary>
    public static async Task ScanAsync(Stream body, IJsonChunkScan scan, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var filled = 0;
        try
        {
            while (true)
            {
                var read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken);
                filled += read;
                var final = read == 0;
                var consumed = scan.Advance(buffer.AsSpan(0, filled), final);
                if (scan.IsDone || final)
                {
                    return;
                }

                // Keep the unfinished token; grow when one token fills the whole buffer (a long string).
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
                if (filled == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace FcHandler.Access;

/// <summary>
/// Finds the model a request names, for model-scoped tokens: the top-level <c>model</c> of a JSON body, the
/// <c>model</c> field of a multipart form (audio transcriptions, image edits), or the engine of a legacy
/// <c>/v1/engines/{id}/...</c> path. Realtime requests may name it in <c>session.model</c> instead (ephemeral keys from
/// <c>/v1/realtime/client_secrets</c>); there the whole body is read, and two models that differ make it unreadable. Reads the already buffered body as a stream, so memory stays bounded by the
/// largest single JSON value, and leaves it rewound for forwarding.
/// </summary>
internal static class ModelReader
{
    private const string EnginesPrefix = "/v1/engines/";
    private const int MaxFormFieldBytes = 256;

    /// <summary>What the request names: a model, none (<see cref="Outcome.None"/>), or something unreadable.</summary>
    public enum Outcome
    {
        None,
        Found,
        Unreadable,
    }

    public static async Task<(Outcome Outcome, string? Model)> ReadAsync(HttpRequest request, CancellationToken cancellationToken, bool realtime = false)
    {
        var path = request.Path.Value ?? "";
        if (path.StartsWith(EnginesPrefix, StringComparison.Ordinal))
        {
            // The engine is the model; a body naming another one would be ambiguous.
            var engine = path[EnginesPrefix.Length..].Split('/')[0];
            return (Outcome.Found, engine);
        }

        if (request.ContentLength is null or 0 || !request.Body.CanSeek)
        {
            return (Outcome.None, null);
        }

        try
        {
            var contentType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed : null;
            if (contentType?.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true)
            {
                return await ReadFormFieldAsync(request.Body, HeaderUtilities.RemoveQuotes(contentType.Boundary).Value, cancellationToken);
            }

            // Only JSON names a model in the body; other bodies (file parts, binary uploads) name none.
            return IsJson(contentType) ? await ReadJsonPropertyAsync(request.Body, new JsonModelScan(realtime), cancellationToken) : (Outcome.None, null);
        }
        finally
        {
            request.Body.Position = 0;
        }
    }

    private static bool IsJson(MediaTypeHeaderValue? contentType)
        => contentType is null
            || contentType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || contentType.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);

    private static async Task<(Outcome, string?)> ReadFormFieldAsync(Stream body, string? boundary, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(boundary))
        {
            return (Outcome.Unreadable, null);
        }

        try
        {
            var reader = new MultipartReader(boundary, body) { BodyLengthLimit = null };
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (section.GetContentDispositionHeader() is { } disposition
                    && disposition.IsFormDisposition()
                    && HeaderUtilities.RemoveQuotes(disposition.Name).Equals("model", StringComparison.Ordinal))
                {
                    var buffer = new byte[MaxFormFieldBytes + 1];
                    var length = await section.Body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
                    return length > MaxFormFieldBytes ? (Outcome.Unreadable, null) : (Outcome.Found, Encoding.UTF8.GetString(buffer, 0, length).Trim());
                }
            }

            return (Outcome.None, null);
        }
        catch (InvalidDataException)
        {
            return (Outcome.Unreadable, null);
        }
    }

    private static async Task<(Outcome, string?)> ReadJsonPropertyAsync(Stream body, JsonModelScan scan, CancellationToken cancellationToken)
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
                if (scan.Outcome is { } outcome)
                {
                    return (outcome, scan.Model);
                }

                if (final)
                {
                    return (Outcome.Unreadable, null);
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

    /// <summary>
    /// A resumable scan for the top-level <c>model</c> string (and, <paramref name="realtime"/>, <c>session.model</c>),
    /// across buffers (Utf8JsonReader cannot cross an await).
    /// </summary>
    private sealed class JsonModelScan(bool realtime)
    {
        private JsonReaderState _state;
        private bool _started;
        private bool _nextIsModel;
        private bool _nextIsSession;
        private bool _inSession;

        public Outcome? Outcome { get; private set; }

        public string? Model { get; private set; }

        /// <summary>Reads what it can and returns how many bytes it consumed.</summary>
        public int Advance(ReadOnlySpan<byte> data, bool final)
        {
            var reader = new Utf8JsonReader(data, final, _state);
            try
            {
                while (Outcome is null && reader.Read())
                {
                    Step(ref reader);
                }
            }
            catch (JsonException)
            {
                Outcome = ModelReader.Outcome.Unreadable;
            }

            _state = reader.CurrentState;
            return (int)reader.BytesConsumed;
        }

        private void Step(ref Utf8JsonReader reader)
        {
            if (!_started)
            {
                _started = true;
                Outcome = reader.TokenType == JsonTokenType.StartObject ? null : ModelReader.Outcome.Unreadable; // not a JSON object
                return;
            }

            if (_nextIsModel)
            {
                _nextIsModel = false;
                Named(reader.TokenType == JsonTokenType.String ? reader.GetString() : null);
                return;
            }

            if (_nextIsSession)
            {
                _nextIsSession = false;
                _inSession = reader.TokenType == JsonTokenType.StartObject;
                return;
            }

            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                _nextIsModel = (reader.CurrentDepth == 1 || (_inSession && reader.CurrentDepth == 2)) && reader.ValueTextEquals("model"u8);
                _nextIsSession = realtime && reader.CurrentDepth == 1 && reader.ValueTextEquals("session"u8);
            }
            else if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth <= 1)
            {
                _inSession = false;
                if (reader.CurrentDepth == 0)
                {
                    Outcome = Model is null ? ModelReader.Outcome.None : ModelReader.Outcome.Found;
                }
            }
        }

        // The first model named ends the scan; a realtime body is read whole, and must not name two.
        private void Named(string? model)
        {
            if (model is null || (Model is not null && Model != model))
            {
                Outcome = ModelReader.Outcome.Unreadable;
                return;
            }

            Model = model;
            Outcome = realtime ? null : ModelReader.Outcome.Found;
        }
    }
}

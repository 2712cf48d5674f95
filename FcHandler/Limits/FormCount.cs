using System.Globalization;
using System.Text;
using FcHandler.Access;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace FcHandler.Limits;

/// <summary>
/// Reads a count (<c>n</c>, how many images) from a buffered <c>multipart/form-data</c> body, the form image edits and
/// variations are sent in (https://platform.openai.com/docs/api-reference/images/createEdit), so that ten images asked
/// for in a form reserve ten. Only the small text parts are read; file parts are skipped as they pass. The body is
/// left rewound.
/// </summary>
internal static class FormCount
{
    private const int MaxValueBytes = 32;

    /// <summary>What the form says of the field.</summary>
    /// <param name="Count">The field's whole number, or null when the form has no such field.</param>
    /// <param name="Problem">Why the field cannot be read one way only (given twice, not a whole number), or null.</param>
    public readonly record struct Result(long? Count, string? Problem);

    /// <summary>Null when the body is not a multipart form with one boundary.</summary>
    public static async Task<Result?> ReadAsync(HttpRequest request, string field, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || MultipartAmbiguity.OfContentType(contentType) is not null
            || HeaderUtilities.RemoveQuotes(contentType.Boundary).Value is not { Length: > 0 } boundary
            || !request.Body.CanSeek)
        {
            return null;
        }

        try
        {
            request.Body.Position = 0;
            var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
            long? count = null;
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (MultipartAmbiguity.OfPart(section) is not null)
                {
                    return new Result(null, "is in a form that can be read two ways");
                }

                if (section.GetContentDispositionHeader() is not { } disposition
                    || !HeaderUtilities.RemoveQuotes(disposition.Name).Equals(field, StringComparison.Ordinal))
                {
                    continue;
                }

                if (count is not null)
                {
                    return new Result(null, "is given twice");
                }

                var buffer = new byte[MaxValueBytes + 1];
                var length = await section.Body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
                if (length > MaxValueBytes || !long.TryParse(Encoding.UTF8.GetString(buffer, 0, length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    return new Result(null, "is not a whole number");
                }

                count = value;
            }

            return new Result(count, null);
        }
        catch (InvalidDataException)
        {
            return null; // not a form the proxy can read
        }
        finally
        {
            request.Body.Position = 0;
        }
    }
}

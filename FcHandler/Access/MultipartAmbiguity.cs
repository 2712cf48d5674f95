using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace FcHandler.Access;

/// <summary>
/// Multipart bodies that two parsers can read two ways, so the model the proxy checks (a scope, a model's limit, the
/// access line) need not be the model OpenAI takes: a Content-Type with two boundaries, a part whose
/// Content-Disposition has two names, a file part named <c>model</c>. No client library writes these; they are refused.
/// Each answer says what is ambiguous, never a value from the request.
/// </summary>
internal static class MultipartAmbiguity
{
    /// <summary>What is ambiguous in the body's Content-Type, or null.</summary>
    public static string? OfContentType(MediaTypeHeaderValue contentType)
        => Count(contentType.Parameters, "boundary") > 1 ? "the Content-Type names more than one boundary" : null;

    /// <summary>What is ambiguous in one part's headers, or null.</summary>
    public static string? OfPart(MultipartSection section)
    {
        if (section.ContentDisposition is not { } raw)
        {
            return null;
        }

        if (!ContentDispositionHeaderValue.TryParse(raw, out var disposition))
        {
            return "a part's Content-Disposition cannot be read";
        }

        if (Count(disposition.Parameters, "name") + Count(disposition.Parameters, "name*") > 1)
        {
            return "a part's Content-Disposition names the part more than once";
        }

        var isFile = disposition.FileName.HasValue || disposition.FileNameStar.HasValue;
        return isFile && HeaderUtilities.RemoveQuotes(disposition.Name).Equals("model", StringComparison.Ordinal)
            ? "the part named model is a file"
            : null;
    }

    private static int Count(IList<NameValueHeaderValue> parameters, string name)
        => parameters.Count(parameter => parameter.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
}

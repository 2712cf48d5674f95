using System.Text;
using System.Text.Json;

namespace FcHandler.Fc.Events;

/// <summary>
/// An FC HTTP-trigger event, validated field by field, as the parts of an HTTP request. The event's shape:
/// <c>version</c>, <c>rawPath</c>, <c>headers</c>, <c>queryParameters</c>, <c>body</c>, <c>isBase64Encoded</c>,
/// <c>requestContext.http.method</c> (https://help.aliyun.com/zh/functioncompute/fc-3-0/user-guide/http-trigger-invoking-function).
/// </summary>
internal sealed record EventRequest(string Method, string RawPath, string QueryString, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    /// <summary>Parses an event, or names the field that is wrong in <paramref name="error"/>.</summary>
    public static EventRequest? TryParse(byte[] json, out EventError? error)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return TryParse(document.RootElement, out error);
        }
        catch (JsonException exception)
        {
            error = new EventError("(body)", $"The event is not valid JSON: {exception.Message}");
            return null;
        }
    }

    private static EventRequest? TryParse(JsonElement root, out EventError? error)
    {
        error = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = new EventError("(body)", "The event must be a JSON object.");
            return null;
        }

        if (!TryGetString(root, "rawPath", required: true, out var rawPath, ref error))
        {
            return null;
        }

        if (rawPath!.Length == 0 || rawPath[0] != '/' || rawPath.Contains('?') || rawPath.Contains('#'))
        {
            error = new EventError("rawPath", "rawPath must be a path starting with '/', without a query or fragment (put those in queryParameters).");
            return null;
        }

        if (EventHeaders.HasControlCharacter(rawPath))
        {
            error = new EventError("rawPath", "rawPath must not contain control characters (CR, LF, NUL and the like); percent-encode them.");
            return null;
        }

        if (!root.TryGetProperty("requestContext", out var requestContext) || requestContext.ValueKind != JsonValueKind.Object
            || !requestContext.TryGetProperty("http", out var http) || http.ValueKind != JsonValueKind.Object)
        {
            error = new EventError("requestContext.http.method", "requestContext.http.method is required: the HTTP method of the request.");
            return null;
        }

        if (!TryGetString(http, "method", required: true, out var method, ref error, "requestContext.http.method"))
        {
            return null;
        }

        if (method!.Length == 0 || !method.All(c => c is >= 'A' and <= 'Z'))
        {
            error = new EventError("requestContext.http.method", "requestContext.http.method must be an upper-case HTTP method such as GET or POST.");
            return null;
        }

        var headers = new List<KeyValuePair<string, string>>();
        if (!TryReadStringMap(root, "headers", headers, ref error) || !EventHeaders.AreValid(headers, ref error))
        {
            return null;
        }

        var query = new List<KeyValuePair<string, string>>();
        if (!TryReadStringMap(root, "queryParameters", query, ref error))
        {
            return null;
        }

        var isBase64 = false;
        if (root.TryGetProperty("isBase64Encoded", out var base64Flag))
        {
            if (base64Flag.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            {
                error = new EventError("isBase64Encoded", "isBase64Encoded must be true or false.");
                return null;
            }

            isBase64 = base64Flag.ValueKind == JsonValueKind.True;
        }

        if (!TryGetString(root, "body", required: false, out var bodyText, ref error))
        {
            return null;
        }

        byte[] body;
        if (string.IsNullOrEmpty(bodyText))
        {
            body = [];
        }
        else if (isBase64)
        {
            try
            {
                body = Convert.FromBase64String(bodyText);
            }
            catch (FormatException)
            {
                error = new EventError("body", "body is not valid base64, but isBase64Encoded is true.");
                return null;
            }
        }
        else
        {
            body = Encoding.UTF8.GetBytes(bodyText);
        }

        return new EventRequest(method, rawPath, BuildQuery(query), headers, body);
    }

    private static bool TryGetString(JsonElement parent, string name, bool required, out string? value, ref EventError? error, string? path = null)
    {
        value = null;
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                error = new EventError(path ?? name, $"{path ?? name} is required.");
                return false;
            }

            return true;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            error = new EventError(path ?? name, $"{path ?? name} must be a string.");
            return false;
        }

        value = element.GetString();
        return true;
    }

    // FC sends single values as strings; a repeated query parameter may come as an array of strings.
    private static bool TryReadStringMap(JsonElement root, string name, List<KeyValuePair<string, string>> into, ref EventError? error)
    {
        if (!root.TryGetProperty(name, out var map) || map.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (map.ValueKind != JsonValueKind.Object)
        {
            error = new EventError(name, $"{name} must be an object of names to string values.");
            return false;
        }

        foreach (var property in map.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String:
                    into.Add(new(property.Name, property.Value.GetString()!));
                    break;
                case JsonValueKind.Array when property.Value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String):
                    into.AddRange(property.Value.EnumerateArray().Select(v => new KeyValuePair<string, string>(property.Name, v.GetString()!)));
                    break;
                default:
                    error = new EventError($"{name}.{property.Name}", $"{name}.{property.Name} must be a string (or an array of strings).");
                    return false;
            }
        }

        return true;
    }

    private static string BuildQuery(List<KeyValuePair<string, string>> query)
        => query.Count == 0
            ? ""
            : "?" + string.Join('&', query.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
}

/// <summary>The event field that is wrong, and why.</summary>
internal sealed record EventError(string Field, string Message);

using System.Text;
using System.Text.Json;

namespace FcHandler.Tests.Infrastructure;

/// <summary>Requests shaped as FC sends them to the function: control path and request id headers.</summary>
public static class FcCalls
{
    public static HttpRequestMessage Control(HttpMethod method, string controlPath, string requestId)
    {
        var request = new HttpRequestMessage(method, controlPath);
        request.Headers.Add("x-fc-control-path", controlPath);
        request.Headers.Add("x-fc-request-id", requestId);
        return request;
    }

    public static HttpRequestMessage Invoke(string eventJson, string requestId = "fc-req-1")
    {
        var request = Control(HttpMethod.Post, "/invoke", requestId);
        request.Content = new StringContent(eventJson, Encoding.UTF8, "application/octet-stream");
        return request;
    }

    /// <summary>Sends an event through /invoke and parses the event response.</summary>
    public static async Task<EventResult> InvokeAsync(this ProxyHost proxy, string eventJson, string requestId = "fc-req-1")
    {
        using var request = Invoke(eventJson, requestId);
        using var response = await proxy.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new EventResult((int)response.StatusCode, text);
    }

    /// <summary>An HTTP-trigger event as FC 3.0 builds it.</summary>
    public static string Event(string method, string rawPath, string? body = null, IDictionary<string, string>? headers = null, bool base64 = false)
        => JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["version"] = "v1",
            ["rawPath"] = rawPath,
            ["headers"] = headers ?? new Dictionary<string, string>(),
            ["queryParameters"] = new Dictionary<string, string>(),
            ["body"] = body,
            ["isBase64Encoded"] = base64,
            ["requestContext"] = new Dictionary<string, object> { ["http"] = new Dictionary<string, string> { ["method"] = method, ["path"] = rawPath } },
        });
}

/// <summary>The HTTP answer to an /invoke call, and the FC event response inside it.</summary>
public sealed record EventResult(int HttpStatus, string Text)
{
    private JsonElement Root => JsonDocument.Parse(Text).RootElement;

    public int StatusCode => Root.GetProperty("statusCode").GetInt32();

    public string Body => Root.GetProperty("body").GetString()!;

    public bool IsBase64Encoded => Root.GetProperty("isBase64Encoded").GetBoolean();

    public string? Header(string name)
        => Root.GetProperty("headers").EnumerateObject().FirstOrDefault(p => p.NameEquals(name) || string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)).Value is { ValueKind: JsonValueKind.String } value
            ? value.GetString()
            : null;

    public JsonElement Error => Root.GetProperty("error");
}

using System.Text;
using System.Text.Json;
using FcHandler.Access;

namespace FcHandler.Tests.Access;

/// <summary>Recognisable secrets and tokens for access-control tests, and the settings that turn server-key mode on.</summary>
public static class AccessKit
{
    public const string ServerKey = "sk-SERVERKEY-must-never-leave-0123456789";
    public const string StaticToken = "static-TOKEN-alpha-0123456789abcdef";
    public const string OtherStaticToken = "static-TOKEN-bravo-0123456789abcdef";
    public const string Secret = "SECRET-hmac-key-for-tests-0123456789-abcdef";

    public static Dictionary<string, string?> ServerKeyMode(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["OPENAI_API_KEY"] = ServerKey,
            ["PROXY_ACCESS_TOKENS"] = $"{StaticToken},{OtherStaticToken}",
            ["PROXY_TOKEN_SECRET"] = Secret,
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    public static string Signed(
        string subject = "alice", TimeSpan? expiresIn = null, string[]? models = null, string[]? routes = null, string id = "tok-1", string secret = Secret,
        string? limits = null)
        => SignedToken.Issue(
            new TokenPayload(subject, DateTimeOffset.UtcNow.Add(expiresIn ?? TimeSpan.FromHours(1)).ToUnixTimeSeconds(), id, models, routes, limits),
            Encoding.UTF8.GetBytes(secret));

    public static HttpRequestMessage Post(string path, string json, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        return request;
    }

    public static HttpRequestMessage Get(string path, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        return request;
    }

    /// <summary>The OpenAI-shaped error's code, asserting the shape on the way.</summary>
    public static async Task<string?> ErrorCodeOf(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("error").GetProperty("code").GetString();
    }
}

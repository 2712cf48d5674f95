using System.Text;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Logging;

public sealed class AccessLogTests
{
    [Fact]
    public async Task ForwardedRequest_LogsOneLineWithEveryField()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var content = new StringContent("""{"model":"gpt-4o-mini","messages":[]}""", Encoding.UTF8, "application/json");
        using var response = await proxy.Client.PostAsync(new Uri("/v1/chat/completions", UriKind.Relative), content);
        var body = await response.Content.ReadAsByteArrayAsync();

        var line = await proxy.Logs.WaitForLineAsync(l => l.Contains("[1] ", StringComparison.Ordinal));
        Assert.Matches(
            @"POST /v1/chat/completions generation 200 upstream=200 upstream_ttfb=\d+\.\dms total=\d+\.\dms in=37B out=" + body.Length +
            @"B subject=- key=- keys_tried=- model=gpt-4o-mini usage=input:5,output:2,total:7 error=- request_id=\S+",
            line);
        Assert.Single(proxy.Logs.Lines, l => l.Contains("[1] ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Request_WithSecrets_LogsNoneOfThem()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        upstream.Handler = (context, _) => FakeResponses.JsonAsync(context, """{"error":{"message":"x","type":"x","param":null,"code":"x"}}""", 401);
        await using var proxy = await ProxyHost.StartAsync(upstream);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions?api_key=sk-in-query-secret")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"body-secret-text"}]}"""),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-header-secret");
        request.Headers.TryAddWithoutValidation("x-fc-access-key-secret", "fc-secret-value");
        using var response = await proxy.Client.SendAsync(request);
        using var unreachable = await proxy.Client.GetAsync(new Uri("/nope?token=sk-in-query-secret", UriKind.Relative));

        await proxy.Logs.WaitForLineAsync(l => l.Contains("GET /nope rejected 404", StringComparison.Ordinal));
        foreach (var secret in new[] { "sk-in-query-secret", "sk-header-secret", "fc-secret-value", "body-secret-text" })
        {
            Assert.DoesNotContain(secret, proxy.Logs.All, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task FailedForward_LogsTheCauseAndTheRequestId()
    {
        await using var proxy = await ProxyHost.StartAsync("http://127.0.0.1:9"); // discard port: nothing listens

        using var response = await proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();

        var line = await proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/models pass-through 502", StringComparison.Ordinal));
        var requestId = line[(line.IndexOf("request_id=", StringComparison.Ordinal) + "request_id=".Length)..].Trim();
        Assert.Contains($"\"request_id\":\"{requestId}\"", body, StringComparison.Ordinal);
        Assert.Contains(proxy.Logs.Lines, l => l.Contains("Upstream fault upstream_connection_refused", StringComparison.Ordinal) && l.Contains(requestId, StringComparison.Ordinal));
    }
}

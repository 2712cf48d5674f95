using System.ClientModel;
using System.ClientModel.Primitives;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace FcHandler.Tests.EndToEnd;

/// <summary>The official OpenAI .NET client meeting the proxy's limits, as a user's app meets them.</summary>
public sealed class OpenAIClientLimitsTests : IAsyncLifetime
{
    private FakeOpenAI _upstream = null!;
    private ProxyHost _proxy = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAI.StartAsync();
        _proxy = await ProxyHost.StartAsync(_upstream, AccessKit.ServerKeyMode(
            ("LIMITS_BY_SUBJECT", "rate-limited rpm=1; broke budget=10/day")));
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private ChatClient Chat(string subject, ClientRetryPolicy? retries = null)
        => new(FakeResponses.Model, new ApiKeyCredential(AccessKit.Signed(subject: subject)), new OpenAIClientOptions
        {
            Endpoint = _proxy.OpenAIEndpoint,
            RetryPolicy = retries,
        });

    private int AttemptsAtTheProxy(string subject)
        => _proxy.Logs.Lines.Count(line => line.Contains("/v1/chat/completions", StringComparison.Ordinal) && line.Contains($"subject={subject} ", StringComparison.Ordinal)
            && line.Contains(" 429 ", StringComparison.Ordinal));

    [Fact]
    public async Task ChatClient_OverItsRpm_SeesOpenAIsRateLimitError()
    {
        // Without retries: the SDK would wait the retry-after the proxy sends (a minute) and try again.
        var chat = Chat("rate-limited", new ClientRetryPolicy(maxRetries: 0));
        await chat.CompleteChatAsync([new UserChatMessage("first")]);

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("second")]));

        Assert.Equal(429, error.Status);
        Assert.Contains("rate_limit_exceeded", error.Message, StringComparison.Ordinal);
        var response = error.GetRawResponse()!;
        Assert.True(response.Headers.TryGetValue("retry-after-ms", out var retryAfterMs) && long.Parse(retryAfterMs!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Single(_upstream.Requests);
    }

    [Fact]
    public async Task ChatClient_OutOfBudget_GetsInsufficientQuota_ItsRetriesNeverReachTheUpstream()
    {
        // The SDK's default policy, as users run it. System.ClientModel retries every 429 three times and does not read
        // x-should-retry (the Python and Node SDKs do, and give up at once): the proxy refuses each retry itself.
        var chat = Chat("broke");

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hello")]));

        Assert.Equal(429, error.Status);
        Assert.Contains("insufficient_quota", error.Message, StringComparison.Ordinal);
        Assert.True(error.GetRawResponse()!.Headers.TryGetValue("x-should-retry", out var shouldRetry) && shouldRetry == "false");
        await _proxy.Logs.WaitForLineAsync(line => line.Contains("subject=broke ", StringComparison.Ordinal) && line.Contains(" 429 ", StringComparison.Ordinal));
        Assert.Equal(4, AttemptsAtTheProxy("broke"));
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task ChatClient_OutOfBudgetWithoutRetries_GivesUpAtTheFirstRefusal()
    {
        var chat = Chat("broke", new ClientRetryPolicy(maxRetries: 0));

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hello")]));

        Assert.Equal(429, error.Status);
        await _proxy.Logs.WaitForLineAsync(line => line.Contains("subject=broke ", StringComparison.Ordinal) && line.Contains(" 429 ", StringComparison.Ordinal));
        Assert.Equal(1, AttemptsAtTheProxy("broke"));
        Assert.Empty(_upstream.Requests);
    }
}

using System.Text;
using FcHandler.Tests.Infrastructure;
using FcHandler.Tests.Infrastructure.FcGateway;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FcHandler.Tests.Fc;

/// <summary>
/// The proxy behind an emulation of FC's gateway (<see cref="FcGateway"/>): pooled keep-alive connections reused after
/// long idle times, with the process frozen in between, as FC runs a function that serves a few requests an hour.
/// </summary>
public sealed class FcGatewayTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Authorized = new() { ["Authorization"] = "Bearer sk-test", ["Content-Type"] = "application/json" };

    private FakeOpenAI _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAI.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [FakeClockFact]
    public async Task PooledConnection_IdleAndFrozenPastKestrelsOldTimeout_CarriesPost()
    {
        await using var gateway = await FcGateway.StartAsync(_upstream.BaseAddress);
        using (var first = await gateway.SendAsync("POST", "/v1/chat/completions", Authorized, """{"model":"gpt-4o-mini","messages":[]}"""))
        {
            Assert.Equal(200, first.Status);
            await first.ReadToEndAsync();
        }

        // 20 minutes idle, frozen: past Kestrel's default 130 s and past FC's 15 minutes.
        await gateway.FreezeAsync(TimeSpan.FromMinutes(20));

        using var second = await gateway.SendAsync("POST", "/v1/chat/completions", Authorized, """{"model":"gpt-4o-mini","messages":[]}""");
        Assert.Equal(200, second.Status);
        Assert.Contains("Hello!", await second.ReadToEndAsync(), StringComparison.Ordinal);
        Assert.Equal(1, gateway.ConnectionsOpened); // the same pooled connection carried both
        Assert.Equal(0, gateway.BadGateways);
    }

    [FakeClockFact]
    public async Task SparseTraffic_RequestsMinutesApartWithFreezes_NoBadGateway()
    {
        await using var gateway = await FcGateway.StartAsync(_upstream.BaseAddress);
        var statuses = new List<int>();
        foreach (var idle in new[] { 0, 3, 16, 45 })
        {
            if (idle > 0)
            {
                await gateway.FreezeAsync(TimeSpan.FromMinutes(idle));
            }

            using (var chat = await gateway.SendAsync("POST", "/v1/chat/completions", Authorized, """{"model":"gpt-4o-mini","messages":[]}"""))
            {
                statuses.Add(chat.Status);
                await chat.ReadToEndAsync();
            }

            // A stream arrives chunk by chunk through the gateway.
            using (var stream = await gateway.SendAsync("POST", "/v1/chat/completions", Authorized, """{"model":"gpt-4o-mini","stream":true,"messages":[]}"""))
            {
                statuses.Add(stream.Status);
                Assert.StartsWith("text/event-stream", stream.Header("Content-Type"), StringComparison.Ordinal);
                Assert.Contains("[DONE]", await stream.ReadToEndAsync(), StringComparison.Ordinal);
            }

            // An upstream error keeps its status and OpenAI's body.
            using (var missing = await gateway.SendAsync("GET", "/v1/nothing-here", Authorized))
            {
                statuses.Add(missing.Status);
                Assert.Contains("invalid_request_error", await missing.ReadToEndAsync(), StringComparison.Ordinal);
            }
        }

        Assert.All(statuses.Chunk(3), three => Assert.Equal([200, 200, 404], three));
        Assert.Equal(0, gateway.BadGateways);
        Assert.Equal(0, gateway.Retries);
        Assert.Empty(gateway.ResponseHeaderViolations);
    }

    [Fact]
    public async Task Gateway_FunctionClosedPooledConnection_RetriesGetAndAnswersPostWith502()
    {
        // A function with a one-second idle timeout, which says when it has closed a connection.
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(1);
            kestrel.Listen(System.Net.IPAddress.Loopback, 0, listen => listen.Use(next => async connection =>
            {
                await next(connection);
                closed.TrySetResult();
            }));
        });
        await using var function = builder.Build();
        function.Run(context => context.Response.WriteAsync("ok"));
        await function.StartAsync();
        var gateway = FcGateway.InFrontOf(new Uri(function.Urls.First()));
        await using var _ = gateway;

        using (var warm = await gateway.SendAsync("GET", "/"))
        {
            Assert.Equal("ok", await warm.ReadToEndAsync());
        }

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (var get = await gateway.SendAsync("GET", "/"))
        {
            Assert.Equal(200, get.Status);
            await get.ReadToEndAsync();
        }

        Assert.Equal(1, gateway.Retries);
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var post = await gateway.SendAsync("POST", "/", body: "{}");
        Assert.Equal(502, post.Status);
        Assert.True(post.FromFc);
        Assert.Equal(1, gateway.BadGateways);
    }

    [Fact]
    public async Task Gateway_ReservedOrOversizedRequest_400InvalidArgumentBeforeTheFunction()
    {
        var gateway = FcGateway.InFrontOf(new Uri("http://127.0.0.1:9/"));
        await using var _ = gateway;
        using var reserved = await gateway.SendAsync("GET", "/v1/models", new Dictionary<string, string> { ["x-fc-request-id"] = "forged" });
        using var long_ = await gateway.SendAsync("GET", "/v1/models?q=" + new string('a', 5000));
        Assert.Equal(400, reserved.Status);
        Assert.Equal(400, long_.Status);
        Assert.Equal(0, gateway.ConnectionsOpened);
    }
}

using System.Diagnostics;
using System.Net;
using System.Text.Json;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Fc;

/// <summary>
/// SIGTERM, as FC stops an instance, against the built proxy in a child process with streams held open by the fake
/// upstream: it drains like the pre-stop hook, cuts nothing before PRE_STOP_TIMEOUT, and exits 0.
/// </summary>
public sealed class ShutdownTests
{
    private const string StreamBody = """{"model":"gpt-4o-mini","stream":true,"messages":[]}""";

    [Fact]
    public async Task SigTerm_With100StreamsInFlight_RefusesNewWorkLetsThemFinishAndExits0()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.Handler = async (context, _) =>
        {
            await FakeResponses.FirstChunkThenWaitAsync(context, finish.Task);
            await FakeResponses.WriteEventAsync(context, "[DONE]");
        };
        await using var proxy = await ProxyProcess.StartAsync(upstream.BaseAddress, new Dictionary<string, string> { ["PRE_STOP_TIMEOUT"] = "20s" });
        using var client = new HttpClient { BaseAddress = proxy.BaseAddress };
        var streams = await OpenStreamsAsync(client, 100);

        try
        {
            await proxy.TerminateAsync();
            await proxy.Logs.WaitForLineAsync(l => l.Contains("Stopping: taking no new requests, waiting up to 20s for 100 in flight", StringComparison.Ordinal));

            using (var late = await client.GetAsync(new Uri("/v1/models", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, late.StatusCode);
                using var json = JsonDocument.Parse(await late.Content.ReadAsStringAsync());
                Assert.Equal("shutting_down", json.RootElement.GetProperty("error").GetProperty("code").GetString());
            }

            Assert.False(proxy.HasExited, "the process exited while 100 streams were running");
            finish.SetResult();
            foreach (var (response, reader) in streams)
            {
                Assert.EndsWith("data: [DONE]\n\n", await reader.ReadToEndAsync(), StringComparison.Ordinal);
            }

            Assert.Equal(0, await proxy.WaitForExitAsync());
            await proxy.Logs.WaitForLineAsync(l => l.Contains("Stopping: done waiting, 0 requests still running", StringComparison.Ordinal));
        }
        finally
        {
            finish.TrySetResult();
            Dispose(streams);
        }
    }

    [Fact]
    public async Task SigTerm_StreamsOutlastPreStopTimeout_AreCutOnlyAfterItAndTheProcessExits0()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.Handler = (context, _) => FakeResponses.FirstChunkThenWaitAsync(context, finish.Task);
        await using var proxy = await ProxyProcess.StartAsync(upstream.BaseAddress, new Dictionary<string, string> { ["PRE_STOP_TIMEOUT"] = "1s" });
        using var client = new HttpClient { BaseAddress = proxy.BaseAddress };
        var streams = await OpenStreamsAsync(client, 10);

        try
        {
            var sinceSigterm = Stopwatch.StartNew();
            await proxy.TerminateAsync();

            foreach (var (_, reader) in streams)
            {
                await Assert.ThrowsAnyAsync<IOException>(() => reader.ReadToEndAsync());
                Assert.True(sinceSigterm.Elapsed >= TimeSpan.FromSeconds(1), $"a stream was cut {sinceSigterm.Elapsed} after SIGTERM, before PRE_STOP_TIMEOUT");
            }

            Assert.Equal(0, await proxy.WaitForExitAsync());
            await proxy.Logs.WaitForLineAsync(l => l.Contains("Stopping: done waiting, 10 requests still running are cut", StringComparison.Ordinal));
        }
        finally
        {
            finish.TrySetResult();
            Dispose(streams);
        }
    }

    private static async Task<(HttpResponseMessage Response, StreamReader Reader)[]> OpenStreamsAsync(HttpClient client, int count)
        => await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(StreamBody) };
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.Contains("first", await reader.ReadLineAsync(), StringComparison.Ordinal); // the stream is running
            return (response, reader);
        }));

    private static void Dispose((HttpResponseMessage Response, StreamReader Reader)[] streams)
    {
        foreach (var (response, reader) in streams)
        {
            reader.Dispose();
            response.Dispose();
        }
    }
}

using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using FcHandler.Limits;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Limits;

/// <summary>
/// A client puts a <c>usage</c> object of 1 token in its request (a tool's schema, metadata), and the answer echoes it,
/// as OpenAI's answers echo a request's tools and metadata. Through real sockets, against a budget: the proxy charges
/// the usage OpenAI reports where it reports it, or keeps the whole reservation, and never the echoed 1 token; the
/// access log shows the real usage or none.
/// </summary>
public sealed class EchoedUsageTests : IAsyncLifetime
{
    private const string Fake = """{"input_tokens":0,"output_tokens":1,"total_tokens":1}""";
    private const string FakeChat = """{"prompt_tokens":0,"completion_tokens":1,"total_tokens":1}""";
    private const string Tools = $$"""[{"type":"function","name":"record","parameters":{"type":"object","properties":{},"usage":{{Fake}} } }]""";
    private const string Metadata = """{"usage":"{\"total_tokens\":1}"}""";
    private const string Real = """{"input_tokens":30,"output_tokens":12,"total_tokens":42}""";
    private const int Cap = 100;

    // A Responses request whose tools and metadata carry the decoy.
    private static readonly string Responses =
        $$"""{"model":"gpt-4o-mini","input":"hi","max_output_tokens":{{Cap}},"tools":{{Tools}},"metadata":{{Metadata}} }""";

    private FakeOpenAI _upstream = null!;
    private ProxyHost _proxy = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAI.StartAsync();
        _proxy = await ProxyHost.StartAsync(_upstream.BaseAddress.ToString(), AccessKit.ServerKeyMode(("LIMITS_DEFAULT", "budget=1M/total")));
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private async Task<long> BudgetUsedAsync()
        => Assert.Single(await _proxy.Services.GetRequiredService<GuardedLimitStore>().Memory.ShowAsync("static-1", LimitSet.Parse("budget=1/total").Rules, default)).BudgetUsed;

    private Task<string> AccessLineAsync(string path)
        => _proxy.Logs.WaitForLineAsync(l => l.Contains($"POST {path} ", StringComparison.Ordinal) && l.Contains("subject=static-1", StringComparison.Ordinal));

    // A Responses answer as OpenAI writes it: the request's tools and metadata echoed before its usage.
    private static string Response(RecordedRequest request, string status, string usage)
    {
        using var body = JsonDocument.Parse(request.Body);
        var tools = body.RootElement.GetProperty("tools").GetRawText();
        var metadata = body.RootElement.GetProperty("metadata").GetRawText();
        var background = body.RootElement.TryGetProperty("background", out var value) && value.GetBoolean() ? "true" : "false";
        return $$"""{"id":"resp_1","object":"response","created_at":1,"status":"{{status}}","background":{{background}},"model":"gpt-4o-mini","output":[{"type":"message","content":[{"type":"output_text","text":"{\"usage\":{\"total_tokens\":1} }","annotations":[]}]}],"tools":{{tools}},"metadata":{{metadata}},"usage":{{usage}} }""";
    }

    // The decoy after the real usage, where "the last usage wins" would take it: a text format's schema.
    private static string WithSchemaAfterUsage(string response)
        => response[..^1] + $$""","text":{"format":{"type":"json_schema","schema":{"usage":{{Fake}} } } } }""";

    [Fact]
    public async Task BackgroundResponse_EchoingAUsageInItsTools_KeepsTheWholeReservation()
    {
        _upstream.Handler = (context, request) => FakeResponses.JsonAsync(context, Response(request, "queued", "null"));
        var body = Responses.Replace("\"input\":\"hi\"", "\"input\":\"hi\",\"background\":true", StringComparison.Ordinal);

        using var response = await _proxy.Client.SendAsync(AccessKit.Post("/v1/responses", body, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"usage\":" + Fake, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal); // the decoy reached the client
        Assert.Contains(" usage=- ", await AccessLineAsync("/v1/responses"), StringComparison.Ordinal);
        Assert.Equal(body.Length + Cap, await BudgetUsedAsync());
    }

    [Fact]
    public async Task Response_EchoingAUsageAfterItsOwn_IsChargedItsOwnUsage()
    {
        // The decoy comes last, where "the last usage wins" would have taken it.
        _upstream.Handler = (context, request) => FakeResponses.JsonAsync(context, WithSchemaAfterUsage(Response(request, "completed", Real)));

        using var response = await _proxy.Client.SendAsync(AccessKit.Post("/v1/responses", Responses, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(" usage=input:30,output:12,total:42 ", await AccessLineAsync("/v1/responses"), StringComparison.Ordinal);
        Assert.Equal(42, await BudgetUsedAsync());
    }

    [Fact]
    public async Task ResponsesStream_CutAfterEchoingAUsage_KeepsTheWholeReservation()
    {
        var firstEventsRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _upstream.Handler = async (context, request) =>
        {
            await FakeResponses.StartSseAsync(context);
            await WriteEventAsync(context, "response.created", $$"""{"type":"response.created","sequence_number":0,"response":{{Response(request, "in_progress", "null")}} }""");
            await WriteEventAsync(context, "response.output_text.delta", $$"""{"type":"response.output_text.delta","sequence_number":1,"delta":"{\"usage\":{{Fake.Replace("\"", "\\\"", StringComparison.Ordinal)}}}"}""");
            await firstEventsRead.Task.WaitAsync(TimeSpan.FromSeconds(30));
            context.Abort(); // cut before response.completed
        };
        var body = Responses.Replace("\"input\":\"hi\"", "\"input\":\"hi\",\"stream\":true", StringComparison.Ordinal);

        using var response = await _proxy.Client.SendAsync(AccessKit.Post("/v1/responses", body, AccessKit.StaticToken), HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        await ReadUntilAsync(stream, "response.output_text.delta");
        firstEventsRead.SetResult();
        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            while (await stream.ReadAsync(new byte[256]) > 0)
            {
            }
        });

        Assert.Contains(" usage=- ", await AccessLineAsync("/v1/responses"), StringComparison.Ordinal);
        Assert.Equal(body.Length + Cap, await BudgetUsedAsync());
    }

    [Fact]
    public async Task ResponsesStream_EchoingAUsage_IsChargedTheUsageOfResponseCompleted()
    {
        _upstream.Handler = async (context, request) =>
        {
            await FakeResponses.StartSseAsync(context);
            await WriteEventAsync(context, "response.created", $$"""{"type":"response.created","sequence_number":0,"response":{{Response(request, "in_progress", "null")}} }""");
            await WriteEventAsync(context, "response.output_item.done", $$"""{"type":"response.output_item.done","sequence_number":1,"item":{"type":"function_call","arguments":"{}","usage":{{Fake}} },"response":{"usage":{{Fake}} } }""");
            await WriteEventAsync(context, "response.completed", $$"""{"type":"response.completed","sequence_number":2,"response":{{WithSchemaAfterUsage(Response(request, "completed", Real))}} }""");
        };
        var body = Responses.Replace("\"input\":\"hi\"", "\"input\":\"hi\",\"stream\":true", StringComparison.Ordinal);

        using var response = await _proxy.Client.SendAsync(AccessKit.Post("/v1/responses", body, AccessKit.StaticToken));

        Assert.Contains("response.completed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(" usage=input:30,output:12,total:42 ", await AccessLineAsync("/v1/responses"), StringComparison.Ordinal);
        Assert.Equal(42, await BudgetUsedAsync());
    }

    [Fact]
    public async Task ChatStream_EchoingAUsageInItsChunks_IsChargedTheUsageChunk()
    {
        _upstream.Handler = async (context, _) =>
        {
            await FakeResponses.StartSseAsync(context);
            await FakeResponses.WriteEventAsync(context, $$"""{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"{\"usage\":1}","usage":{{FakeChat}} } }],"usage":null}""");
            await FakeResponses.WriteEventAsync(context, """{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":3,"total_tokens":23}}""");
            await FakeResponses.WriteEventAsync(context, $$"""{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"{}"},"usage":{{FakeChat}} }] } }],"usage":null}""");
            await FakeResponses.WriteEventAsync(context, "[DONE]");
        };

        using var response = await _proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions",
            """{"model":"gpt-4o-mini","messages":[],"stream":true,"stream_options":{"include_usage":true},"max_tokens":50}""", AccessKit.StaticToken));
        await response.Content.ReadAsStringAsync();

        Assert.Contains(" usage=input:20,output:3,total:23 ", await AccessLineAsync("/v1/chat/completions"), StringComparison.Ordinal);
        Assert.Equal(23, await BudgetUsedAsync());
    }

    [Fact]
    public async Task Chat_AnswerNamingItsUsageTwice_KeepsTheWholeReservation()
    {
        const string Body = """{"model":"gpt-4o-mini","messages":[],"max_tokens":50}""";
        _upstream.Handler = (context, _) => FakeResponses.JsonAsync(context,
            $$"""{"id":"c","object":"chat.completion","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":3,"total_tokens":23},"usage":{{FakeChat}} }""");

        using var response = await _proxy.Client.SendAsync(AccessKit.Post("/v1/chat/completions", Body, AccessKit.StaticToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(" usage=- ", await AccessLineAsync("/v1/chat/completions"), StringComparison.Ordinal);
        Assert.Equal(Body.Length + 50, await BudgetUsedAsync());
    }

    [Fact]
    public async Task RealtimeSession_EchoingAUsage_IsChargedOnlyTheUsageOfResponseDone()
    {
        // Before its response.done: an event whose metadata names "response.done" among its first bytes, with a usage
        // of its own; then the response.done, whose echoed metadata carries a usage after the real one.
        const string Decoy =
            """{"type":"response.created","event_id":"e1","response":{"metadata":{"response.done":"x"},"usage":{"total_tokens":5000,"input_tokens":5000,"output_tokens":0}}}""";
        const string ResponseDone =
            """{"type":"response.done","event_id":"e2","response":{"object":"realtime.response","status":"completed","usage":{"total_tokens":600,"input_tokens":400,"output_tokens":200},"metadata":{"usage":{"total_tokens":1,"input_tokens":0,"output_tokens":1}}}}""";
        _upstream.WebSocketHandler = async (socket, _) =>
        {
            while (await FakeRealtime.ReceiveAsync(socket) is { } message)
            {
                if (message.Text.Contains("response.create", StringComparison.Ordinal))
                {
                    await FakeRealtime.SendTextAsync(socket, Decoy);
                    await FakeRealtime.SendTextAsync(socket, ResponseDone);
                }
            }

            await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.Empty, socket.CloseStatusDescription, CancellationToken.None);
        };

        using var socket = await RealtimeSockets.ConnectAsync(_proxy, options => options.SetRequestHeader("Authorization", "Bearer " + AccessKit.StaticToken));
        await socket.SendTextAsync("""{"type":"response.create"}""");
        Assert.Contains("response.created", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        Assert.Contains("response.done", await socket.ReceiveTextAsync(), StringComparison.Ordinal);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);

        var line = await _proxy.Logs.WaitForLineAsync(l => l.Contains("GET /v1/realtime ", StringComparison.Ordinal) && l.Contains(" websocket ", StringComparison.Ordinal));
        Assert.Contains(" usage=input:400,output:200,total:600 ", line, StringComparison.Ordinal);
        Assert.Equal(600, await BudgetUsedAsync());
    }

    private static async Task WriteEventAsync(HttpContext context, string type, string data)
    {
        await context.Response.WriteAsync($"event: {type}\ndata: {data}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static async Task ReadUntilAsync(Stream stream, string text)
    {
        var received = new System.Text.StringBuilder();
        var buffer = new byte[4096];
        while (!received.ToString().Contains(text, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer);
            Assert.True(read > 0, "the stream ended before " + text);
            received.Append(System.Text.Encoding.UTF8.GetString(buffer, 0, read));
        }
    }
}

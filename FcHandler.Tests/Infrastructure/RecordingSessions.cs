using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// A WebSocket upstream for spend and scope tests that records every whole message it receives, and answers each
/// <c>response.create</c> as OpenAI does: the Realtime API (<c>/v1/realtime</c>) with <c>response.created</c>, a text
/// delta and <c>response.done</c>; the Responses API's WebSocket mode (<c>/v1/responses</c>) with
/// <c>response.created</c>, a delta and <c>response.completed</c>, each end event carrying <c>response.usage</c>.
/// https://platform.openai.com/docs/api-reference/realtime-server-events,
/// https://developers.openai.com/api/reference/resources/responses/websocket-events
/// </summary>
public sealed class RecordingSessions
{
    private readonly ConcurrentQueue<string> _received = new();
    private readonly SemaphoreSlim _arrivals = new(0);
    private int _responses;

    /// <summary>When false, a response starts and streams but never ends (no end event): a session cut mid-response.</summary>
    public bool EndResponses { get; set; } = true;

    /// <summary>The <c>total_tokens</c> each end event reports (input 100, the rest output).</summary>
    public long TotalTokens { get; set; } = 150;

    /// <summary>Every whole message received, in order.</summary>
    public IReadOnlyCollection<string> Received => _received;

    /// <summary>Waits until <paramref name="count"/> messages in all have arrived.</summary>
    public async Task WaitForAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (_received.Count < count)
        {
            await _arrivals.WaitAsync(timeout.Token);
        }
    }

    public async Task ServeAsync(WebSocket socket, RecordedRequest request)
    {
        var responsesApi = request.Path == "/v1/responses";
        if (!responsesApi)
        {
            await FakeRealtime.SendTextAsync(socket, FakeRealtime.SessionCreated(FakeRealtime.ModelOf(request)));
        }

        while (await FakeRealtime.ReceiveAsync(socket) is { } message)
        {
            _received.Enqueue(message.Text);
            _arrivals.Release();
            if (!message.Text.Contains("\"response.create\"", StringComparison.Ordinal))
            {
                continue;
            }

            var id = "resp_" + Interlocked.Increment(ref _responses);
            await FakeRealtime.SendTextAsync(socket, $$$"""{"type":"response.created","event_id":"e1","response":{"id":"{{{id}}}","status":"in_progress","usage":null}}""");
            await FakeRealtime.SendTextAsync(socket, FakeRealtime.TextDelta("Hi"));
            if (EndResponses)
            {
                await FakeRealtime.SendTextAsync(socket, End(id, responsesApi));
            }
        }

        await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.Empty, socket.CloseStatusDescription, CancellationToken.None);
    }

    private string End(string id, bool responsesApi)
    {
        // A tool schema echoed before the real usage names a property "usage" too: only response.usage counts.
        var usage = $$$"""{"input_tokens":100,"output_tokens":{{{TotalTokens - 100}}},"total_tokens":{{{TotalTokens}}}}""";
        return responsesApi
            ? $$$$$"""{"type":"response.completed","sequence_number":9,"response":{"id":"{{{{{id}}}}}","object":"response","status":"completed","tools":[{"type":"function","name":"f","parameters":{"type":"object","properties":{"usage":{"type":"object"}}}}],"usage":{{{{{usage}}}}}}}"""
            : $$$"""{"type":"response.done","event_id":"e9","response":{"object":"realtime.response","id":"{{{id}}}","status":"completed","usage":{{{usage}}}}}""";
    }
}

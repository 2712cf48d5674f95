using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// A stand-in for OpenAI's Realtime WebSocket (GA interface): <c>session.created</c> first, a streamed text answer
/// (<c>response.output_text.delta</c> events) to <c>response.create</c>, every other message echoed back unchanged,
/// and a close answered with the same code.
/// https://platform.openai.com/docs/api-reference/realtime-server-events
/// </summary>
public static class FakeRealtime
{
    public static readonly string[] AnswerPieces = ["Hel", "lo", "!"];

    public static async Task ServeAsync(WebSocket socket, RecordedRequest request)
    {
        await SendTextAsync(socket, SessionCreated(ModelOf(request)));
        while (await ReceiveAsync(socket) is { } message)
        {
            if (message.Type == WebSocketMessageType.Text && message.Text.Contains("\"type\":\"response.create\"", StringComparison.Ordinal))
            {
                foreach (var piece in AnswerPieces)
                {
                    await SendTextAsync(socket, TextDelta(piece));
                }

                continue;
            }

            await socket.SendAsync(message.Data, message.Type, endOfMessage: true, CancellationToken.None);
        }

        // The client closed: answer with its own code, as RFC 6455 section 5.5.1 asks.
        await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.Empty, socket.CloseStatusDescription, CancellationToken.None);
    }

    public static string ModelOf(RecordedRequest request)
        => QueryHelpers.ParseQuery(request.Query).TryGetValue("model", out var model) ? model.ToString() : "";

    public static string SessionCreated(string model) =>
        $$$"""{"type":"session.created","event_id":"event_1","session":{"type":"realtime","object":"realtime.session","id":"sess_1","model":"{{{model}}}"}}""";

    public static string TextDelta(string piece) =>
        $$$"""{"type":"response.output_text.delta","event_id":"event_2","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"{{{piece}}}"}""";

    public static Task SendTextAsync(WebSocket socket, string text, CancellationToken cancellationToken = default)
        => socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <summary>The next whole message, or null once the peer's close frame has arrived.</summary>
    public static async Task<WebSocketMessage?> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken = default)
    {
        using var data = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            data.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return new WebSocketMessage(result.MessageType, data.ToArray());
            }
        }
    }
}

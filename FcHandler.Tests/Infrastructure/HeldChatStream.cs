using OpenAI.Chat;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// An upstream chat stream that sends its first chunk ("Hel") and holds the rest ("lo", then [DONE]) until the client has
/// the first: if anything between them buffered, the first would wait for the rest, which waits for the first, and the
/// test times out instead of passing.
/// </summary>
public sealed class HeldChatStream
{
    private readonly TaskCompletionSource _firstSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _restSent;

    /// <summary>The upstream's handler (<see cref="FakeOpenAI.Handler"/>).</summary>
    public async Task ServeAsync(HttpContext context, RecordedRequest request)
    {
        await FakeResponses.StartSseAsync(context);
        await FakeResponses.WriteEventAsync(context, FakeResponses.ChatChunk("Hel"));
        await _firstSeen.Task.WaitAsync(TimeSpan.FromSeconds(30));
        _restSent = true;
        await FakeResponses.WriteEventAsync(context, FakeResponses.ChatChunk("lo"));
        await FakeResponses.WriteEventAsync(context, "[DONE]");
    }

    /// <summary>The client has the first chunk: the upstream sends the rest.</summary>
    public void FirstSeen() => _firstSeen.TrySetResult();

    /// <summary>A streamed completion read with the official client, update by update; the texts it carried.</summary>
    public async Task<List<string>> ReadAsync(ChatClient chat)
    {
        var texts = new List<string>();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Say hello")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                if (texts.Count == 0)
                {
                    Assert.False(_restSent, "the first update arrived only after the upstream sent the rest");
                    FirstSeen();
                }

                texts.Add(part.Text);
            }
        }

        return texts;
    }
}

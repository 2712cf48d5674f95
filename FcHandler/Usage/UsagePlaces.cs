namespace FcHandler.Usage;

/// <summary>
/// Where OpenAI puts the usage of an answer, and nowhere else: a <c>usage</c> object anywhere else in an answer (in an
/// echoed tool schema, in metadata, in output text) is the client's own text and is never read as a count. Two places:
/// <list type="bullet">
/// <item>the top-level <c>usage</c> of a JSON answer, or of an event stream's data object: chat completions and their
/// last chunk (<c>stream_options.include_usage</c>; every other chunk has <c>"usage":null</c>), legacy completions,
/// embeddings, images (gpt-image-1, and a stream's <c>image_generation.completed</c> / <c>image_edit.completed</c>),
/// audio transcriptions (and a stream's <c>transcript.text.done</c>), the Responses API's JSON answer (whose
/// <c>usage</c> is null while a background response is queued or in progress);</item>
/// <item><c>response.usage</c> of an event whose own top-level <c>type</c> is one that ends a response: the Responses
/// stream's <c>response.completed</c>, <c>response.incomplete</c> and <c>response.failed</c>, Realtime's
/// <c>response.done</c>.</item>
/// </list>
/// Sources: openai-python's types, generated from OpenAI's OpenAPI spec
/// (https://github.com/openai/openai-python/tree/main/src/openai/types): <c>chat/chat_completion.py</c> and
/// <c>chat/chat_completion_chunk.py</c> (<c>usage</c>), <c>completion.py</c>, <c>create_embedding_response.py</c>,
/// <c>images_response.py</c>, <c>image_gen_completed_event.py</c>, <c>audio/transcription.py</c>,
/// <c>audio/transcription_text_done_event.py</c>, <c>responses/response.py</c> (<c>usage</c>),
/// <c>responses/response_completed_event.py</c>, <c>response_incomplete_event.py</c>, <c>response_failed_event.py</c>
/// (<c>type</c>, <c>response: Response</c>), <c>realtime/response_done_event.py</c> (<c>type</c>,
/// <c>response: RealtimeResponse</c>, whose <c>usage</c> is in <c>realtime/realtime_response.py</c>).
/// https://platform.openai.com/docs/api-reference/responses-streaming/response/completed
/// https://platform.openai.com/docs/api-reference/realtime-server-events/response/done
/// </summary>
internal sealed class UsagePlaces
{
    private readonly byte[][] _responseEvents;

    private UsagePlaces(bool topLevel, params string[] responseEvents)
    {
        TopLevel = topLevel;
        _responseEvents = [.. responseEvents.Select(System.Text.Encoding.UTF8.GetBytes)];
    }

    /// <summary>An HTTP answer: a JSON body or an event stream.</summary>
    public static UsagePlaces Answers { get; } = new(true, "response.completed", "response.incomplete", "response.failed");

    /// <summary>
    /// A Realtime session's server events: only <c>response.done</c> counts. A top-level <c>usage</c> there is a
    /// transcription's (<c>conversation.item.input_audio_transcription.completed</c>), another model's tokens.
    /// </summary>
    public static UsagePlaces RealtimeEvents { get; } = new(false, "response.done");

    /// <summary>Whether a top-level <c>usage</c> counts.</summary>
    public bool TopLevel { get; }

    /// <summary>Whether an event of this top-level <c>type</c> ends a response, so its <c>response.usage</c> counts.</summary>
    public bool EndsResponse(ReadOnlySpan<byte> type)
    {
        foreach (var name in _responseEvents)
        {
            if (type.SequenceEqual(name))
            {
                return true;
            }
        }

        return false;
    }
}

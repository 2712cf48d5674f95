using System.Buffers.Text;
using System.Text.Json;
using FcHandler.Access;

namespace FcHandler.Limits;

/// <summary>
/// What in a chat, Responses or image-edit body makes its cost unbounded by its bytes (docs/limits.md, "What is
/// metered"): input the body only refers to, and tools OpenAI runs itself.
/// <list type="bullet">
/// <item><see cref="SpendTable.StoredInput"/>: a Responses request's <c>previous_response_id</c>, <c>conversation</c>
/// or stored <c>prompt</c> (the stored items are read again as input); in the messages or input, a stored item
/// (<c>item_reference</c>), a file by id or URL, an image by URL (OpenAI counts an image by its size, not its URL),
/// a chat assistant turn's audio by id.</item>
/// <item><see cref="SpendTable.HostedTools"/>: a tool OpenAI runs (web search, file search, code interpreter, image
/// generation, remote MCP, a hosted shell or tool search), each of which can run the model again on what it brings
/// back, and most of which are billed per call; chat's <c>web_search_options</c>. Tools the client runs (function,
/// custom, local shell, apply_patch, computer use) end the response with a call and are bounded.</item>
/// </list>
/// Only the members OpenAI reads as input are looked at: the top-level <c>messages</c>, <c>input</c>, <c>images</c>
/// and <c>mask</c>, and each entry of <c>tools</c>, so a tool's JSON schema or metadata with a key named
/// <c>file_id</c> is never taken for one. Keys are compared decoded, as OpenAI's parser reads them.
/// https://platform.openai.com/docs/api-reference/responses/create, https://platform.openai.com/docs/api-reference/chat/create
/// </summary>
internal sealed class UnboundedInputScan(bool responses) : IJsonChunkScan
{
    private readonly Stack<Frame> _frames = new();
    private JsonReaderState _state;
    private Region _pendingRegion;
    private string? _pendingKey;
    private Tool _tool;

    private enum Region : byte
    {
        None,
        Input,
        Tools,
    }

    /// <summary>The first unbounded input found: the class <c>unmetered=</c> names, and what it is; null when none.</summary>
    public (string Class, string What)? Found { get; private set; }

    /// <summary>The scan has ended: something was found, or the object is over.</summary>
    public bool IsDone => Done;

    private bool Done { get; set; }

    /// <summary>
    /// What makes a JSON chat, Responses or image-edit body's cost unbounded by its bytes; null for any other request, or
    /// none. Leaves the body rewound.
    /// </summary>
    public static async Task<(string Class, string What)?> FindAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var path = request.Path.Value ?? "";
        var responses = path == "/v1/responses";
        // Chat is /v1/chat/completions, or the legacy /v1/engines/{id}/chat/completions.
        if (!(responses || path == "/v1/images/edits" || path.EndsWith("/chat/completions", StringComparison.Ordinal))
            || request.ContentLength is null or 0 || !request.Body.CanSeek || !ModelReader.IsJson(request.ContentType))
        {
            return null;
        }

        try
        {
            request.Body.Position = 0;
            var scan = new UnboundedInputScan(responses);
            await ModelReader.ScanAsync(request.Body, scan, cancellationToken);
            return scan.Found;
        }
        finally
        {
            request.Body.Position = 0;
        }
    }

    /// <summary>Reads what it can and returns how many bytes it consumed.</summary>
    public int Advance(ReadOnlySpan<byte> data, bool final)
    {
        var reader = new Utf8JsonReader(data, final, _state);
        try
        {
            while (!Done && reader.Read())
            {
                Step(ref reader);
            }
        }
        catch (JsonException)
        {
            Done = true; // not this scan's to judge: RequestCost refuses a body it cannot read
        }

        Done |= final;
        _state = reader.CurrentState;
        return (int)reader.BytesConsumed;
    }

    private void Step(ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        switch (reader.TokenType)
        {
            case JsonTokenType.PropertyName:
                OnKey(ref reader, depth);
                return;
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                if (depth == 1)
                {
                    OnTopLevel(_pendingKey);
                }

                _frames.Push(new Frame(Enter(depth), _pendingKey));
                if (_frames.Peek().Region == Region.Tools && depth == 2 && reader.TokenType == JsonTokenType.StartObject)
                {
                    _tool = default; // one entry of tools
                }

                (_pendingRegion, _pendingKey) = (Region.None, null);
                return;
            case JsonTokenType.EndObject or JsonTokenType.EndArray:
                var frame = _frames.Pop();
                if (frame.Region == Region.Tools && depth == 2 && reader.TokenType == JsonTokenType.EndObject && _tool.IsHosted)
                {
                    Find(UnmeteredInput.HostedTool(_tool.Type));
                }

                Done |= _frames.Count == 0;
                return;
            default:
                OnValue(ref reader, depth);
                (_pendingRegion, _pendingKey) = (Region.None, null);
                return;
        }
    }

    private Region Enter(int depth)
        => depth == 0 ? Region.None : depth == 1 ? _pendingRegion : _frames.Peek().Region;

    private void OnKey(ref Utf8JsonReader reader, int depth)
    {
        _pendingKey = reader.GetString();
        if (depth == 1)
        {
            _pendingRegion = _pendingKey switch
            {
                "messages" or "input" or "images" or "mask" => Region.Input,
                "tools" => Region.Tools,
                _ => Region.None,
            };
        }
    }

    private void OnValue(ref Utf8JsonReader reader, int depth)
    {
        if (reader.TokenType is not JsonTokenType.String || depth == 1)
        {
            if (depth == 1 && reader.TokenType != JsonTokenType.Null)
            {
                OnTopLevel(_pendingKey);
            }

            return;
        }

        var frame = _frames.Peek();
        if (frame.Region == Region.Input)
        {
            OnInputString(ref reader, _pendingKey, frame.Key);
        }
        else if (frame.Region == Region.Tools)
        {
            OnToolString(ref reader, _pendingKey, frame.Key, depth);
        }
    }

    // A top-level member that is there (not null): stored input by reference, or chat's hosted web search.
    private void OnTopLevel(string? key)
    {
        if (responses && key is "previous_response_id" or "conversation" or "prompt")
        {
            Find(UnmeteredInput.StoredReference(key));
        }
        else if (key == "web_search_options")
        {
            Find(UnmeteredInput.HostedTool("web_search_options"));
        }
    }

    // Strings in the input are read only under the keys that matter: text and inline images can be megabytes.
    private void OnInputString(ref Utf8JsonReader reader, string? key, string? container)
    {
        switch (key)
        {
            case "type" when reader.ValueTextEquals("item_reference"u8):
                Find(UnmeteredInput.ItemReference);
                return;
            case "file_id":
                Find(UnmeteredInput.FileById);
                return;
            case "file_url":
                Find(UnmeteredInput.FileByUrl);
                return;
            case "image_url" or "url" when (key == "image_url" || container == "image_url") && !IsInline(ref reader):
                Find(UnmeteredInput.ImageByUrl);
                return;
            case "id" when container == "audio":
                Find(UnmeteredInput.AudioById);
                return;
        }
    }

    // An entry of tools: its type at depth 3; a shell's environment type and a tool search's execution inside it.
    private void OnToolString(ref Utf8JsonReader reader, string? key, string? container, int depth)
    {
        switch (key)
        {
            case "type" when depth == 3:
                _tool.Type = reader.GetString();
                return;
            case "type" when depth == 4 && container == "environment":
                _tool.Environment = reader.GetString();
                return;
            case "execution" when depth == 3:
                _tool.Execution = reader.GetString();
                return;
        }
    }

    // A data: URL carries the image in the body, whose bytes bound its tokens. Read from the raw bytes, decoding only
    // the prefix: some encoders escape every slash ("data:image\/png"), and an image can be megabytes.
    private static bool IsInline(ref Utf8JsonReader reader)
    {
        var raw = reader.ValueSpan;
        Span<byte> prefix = stackalloc byte[5];
        var length = 0;
        for (var i = 0; i < raw.Length && length < prefix.Length; i++)
        {
            var c = (char)raw[i];
            if (c == '\\' && i + 1 < raw.Length)
            {
                c = (char)raw[++i];
                if (c == 'u')
                {
                    if (i + 4 >= raw.Length || !Utf8Parser.TryParse(raw.Slice(i + 1, 4), out ushort code, out var digits, 'X') || digits != 4)
                    {
                        return false;
                    }

                    (c, i) = ((char)code, i + 4);
                }
            }

            prefix[length++] = c < 0x80 ? (byte)c : (byte)0;
        }

        return UnmeteredInput.IsInline(prefix[..length]);
    }

    private void Find((string Class, string What) found)
    {
        Found = found;
        Done = true;
    }

    private readonly record struct Frame(Region Region, string? Key);

    private struct Tool
    {
        public string? Type;
        public string? Environment;
        public string? Execution;

        public readonly bool IsHosted => UnmeteredInput.IsHosted(Type, Environment, Execution);
    }
}

using System.Text.Json;

namespace FcHandler.Access;

/// <summary>
/// A resumable scan of a JSON object's top-level properties across buffers (Utf8JsonReader cannot cross an await):
/// <c>model</c>, where it stops unless <c>wholeObject</c> is set; then also <c>stream</c> and <c>stream_options</c>, and
/// what bounds a request's cost: its output caps (<c>max_tokens</c>, <c>max_completion_tokens</c>, <c>max_output_tokens</c>),
/// how many answers it asks for (<c>n</c>, <c>best_of</c>) and whether it runs in the <c>background</c>.
/// Nested objects are passed over, so a tool's parameter called "model" is never taken for the request's; with
/// <c>realtime</c>, except <c>session.model</c> (a Realtime session's), and the object is read to its end, where two
/// models that differ make it unreadable. A whole-object scan also notes the first member that can be read two ways
/// (<see cref="Ambiguous"/>): a key that bounds the request's cost given twice (OpenAI takes the last of two), or given
/// as something other than what OpenAI documents for it, so that the proxy and OpenAI could disagree on the bound.
/// </summary>
internal sealed class JsonTopLevelScan(bool wholeObject, bool realtime = false) : IJsonChunkScan
{
    private long? _maxTokens;
    private long? _maxCompletionTokens;
    private long? _maxOutputTokens;
    private long? _n;
    private long? _bestOf;
    private JsonReaderState _state;
    private bool _started;
    private bool _inSession;
    private Field _next;
    private int _seen;

    private enum Field
    {
        None,
        Model,
        Stream,
        StreamOptions,
        Session,
        MaxTokens,
        MaxCompletionTokens,
        MaxOutputTokens,
        N,
        BestOf,
        Background,
    }

    /// <summary>Set once the scan is over: the model found, none in the whole object, or not a readable object.</summary>
    public ModelReader.Outcome? Outcome { get; private set; }

    public string? Model { get; private set; }

    public bool IsDone => Outcome is not null;

    /// <summary>The top-level <c>stream</c> is <c>true</c> (read only for a whole-object scan).</summary>
    public bool Stream { get; private set; }

    /// <summary>The object has a top-level <c>stream_options</c> (read only for a whole-object scan).</summary>
    public bool HasStreamOptions { get; private set; }

    /// <summary>The top-level <c>max_tokens</c>, when it is a whole number (read only for a whole-object scan).</summary>
    public long? MaxTokens => Exposed(_maxTokens);

    /// <summary>The top-level <c>max_completion_tokens</c> (chat), when it is a whole number.</summary>
    public long? MaxCompletionTokens => Exposed(_maxCompletionTokens);

    /// <summary>The top-level <c>max_output_tokens</c> (Responses), when it is a whole number.</summary>
    public long? MaxOutputTokens => Exposed(_maxOutputTokens);

    /// <summary>The top-level <c>n</c>: how many answers (chat, completions) or images.</summary>
    public long? N => Exposed(_n);

    /// <summary>The top-level <c>best_of</c> (legacy completions): answers generated, of which <c>n</c> are returned.</summary>
    public long? BestOf => Exposed(_bestOf);

    /// <summary>The top-level <c>background</c> is <c>true</c> (a Responses request answered before it runs).</summary>
    public bool Background { get; private set; }

    /// <summary>
    /// The first top-level member that bounds the cost and can be read two ways, and why; null when there is none (read
    /// only for a whole-object scan): <c>model</c>, <c>stream</c>, <c>background</c>, a cap, <c>n</c> or <c>best_of</c>
    /// given twice; a cap, <c>n</c> or <c>best_of</c> that is not a whole number (null, 8.0, "8"); <c>stream</c> or
    /// <c>background</c> that is not true or false.
    /// </summary>
    public (string Member, string Problem)? Ambiguous { get; private set; }

    /// <summary>Reads what it can and returns how many bytes it consumed.</summary>
    public int Advance(ReadOnlySpan<byte> data, bool final)
    {
        var reader = new Utf8JsonReader(data, final, _state);
        try
        {
            while (Outcome is null && reader.Read())
            {
                Step(ref reader);
            }

            if (final && Outcome is null)
            {
                Outcome = ModelReader.Outcome.Unreadable; // ended inside the object
            }
        }
        catch (JsonException)
        {
            Outcome = ModelReader.Outcome.Unreadable;
        }

        _state = reader.CurrentState;
        return (int)reader.BytesConsumed;
    }

    private void Step(ref Utf8JsonReader reader)
    {
        if (!_started)
        {
            _started = true;
            Outcome = reader.TokenType == JsonTokenType.StartObject ? null : ModelReader.Outcome.Unreadable; // not a JSON object
            return;
        }

        var field = _next;
        _next = Field.None;
        if (field != Field.None && wholeObject)
        {
            Check(field, ref reader);
        }

        switch (field)
        {
            case Field.Model:
                Named(reader.TokenType == JsonTokenType.String ? reader.GetString() : null);
                return;
            case Field.Session:
                _inSession = reader.TokenType == JsonTokenType.StartObject;
                return;
            case Field.Stream:
                Stream = reader.TokenType == JsonTokenType.True;
                return;
            case Field.StreamOptions:
                HasStreamOptions = true;
                return;
            case Field.Background:
                Background = reader.TokenType == JsonTokenType.True;
                return;
            case Field.MaxTokens or Field.MaxCompletionTokens or Field.MaxOutputTokens or Field.N or Field.BestOf:
                Count(field, reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var count) && count >= 0 ? count : null);
                return;
        }

        if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
        {
            _next = reader.ValueTextEquals("model"u8) ? Field.Model
                : realtime && reader.ValueTextEquals("session"u8) ? Field.Session
                : !wholeObject ? Field.None
                : reader.ValueTextEquals("stream"u8) ? Field.Stream
                : reader.ValueTextEquals("stream_options"u8) ? Field.StreamOptions
                : reader.ValueTextEquals("max_tokens"u8) ? Field.MaxTokens
                : reader.ValueTextEquals("max_completion_tokens"u8) ? Field.MaxCompletionTokens
                : reader.ValueTextEquals("max_output_tokens"u8) ? Field.MaxOutputTokens
                : reader.ValueTextEquals("n"u8) ? Field.N
                : reader.ValueTextEquals("best_of"u8) ? Field.BestOf
                : reader.ValueTextEquals("background"u8) ? Field.Background
                : Field.None;
        }
        else if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 2 && _inSession)
        {
            _next = reader.ValueTextEquals("model"u8) ? Field.Model : Field.None;
        }
        else if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth <= 1)
        {
            _inSession = false;
            if (reader.CurrentDepth == 0)
            {
                Outcome = Model is null ? ModelReader.Outcome.None : ModelReader.Outcome.Found;
            }
        }
    }

    // Notes the first member that OpenAI and the proxy could read differently. Counts must be JSON integers: OpenAI
    // documents them as integers, and whether it would take 8.0 or "8" as 8 is not a bound to rely on. A null cap is
    // "no cap" to OpenAI: the proxy's own cap would then sit beside it, and OpenAI would take whichever comes last.
    private void Check(Field field, ref Utf8JsonReader reader)
    {
        if (Ambiguous is not null || _inSession || field is Field.StreamOptions or Field.Session)
        {
            return;
        }

        var bit = 1 << (int)field;
        var name = field switch
        {
            Field.Model => "model",
            Field.Stream => "stream",
            Field.Background => "background",
            Field.MaxTokens => "max_tokens",
            Field.MaxCompletionTokens => "max_completion_tokens",
            Field.MaxOutputTokens => "max_output_tokens",
            Field.N => "n",
            _ => "best_of",
        };
        if ((_seen & bit) != 0)
        {
            Ambiguous = (name, "is given twice");
            return;
        }

        _seen |= bit;
        Ambiguous = field switch
        {
            Field.Stream or Field.Background when reader.TokenType is not (JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null)
                => (name, "is not true or false"),
            Field.N or Field.BestOf when reader.TokenType == JsonTokenType.Null => null, // OpenAI's default, 1
            Field.MaxTokens or Field.MaxCompletionTokens or Field.MaxOutputTokens or Field.N or Field.BestOf
                when !(reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var count) && count >= 0) => (name, "is not a whole number"),
            _ => null,
        };
    }

    // A key given twice counts at its larger value, and as no cap at all if either is not a number: which of the two
    // OpenAI takes is not a bound to rely on. Held as long.MaxValue for "no cap", shown as null.
    private void Count(Field field, long? value)
    {
        var count = value ?? long.MaxValue;
        switch (field)
        {
            case Field.MaxTokens:
                _maxTokens = Larger(_maxTokens, count);
                break;
            case Field.MaxCompletionTokens:
                _maxCompletionTokens = Larger(_maxCompletionTokens, count);
                break;
            case Field.MaxOutputTokens:
                _maxOutputTokens = Larger(_maxOutputTokens, count);
                break;
            case Field.N:
                _n = Larger(_n, count);
                break;
            default:
                _bestOf = Larger(_bestOf, count);
                break;
        }
    }

    private static long Larger(long? held, long count) => held is { } earlier ? Math.Max(earlier, count) : count;

    private static long? Exposed(long? held) => held == long.MaxValue ? null : held;

    // The first model named ends a plain scan; a realtime or whole-object scan goes on, and a second, different model
    // makes the request unreadable rather than letting one of the two decide.
    private void Named(string? model)
    {
        if (model is null || (Model is not null && Model != model))
        {
            Outcome = ModelReader.Outcome.Unreadable;
            return;
        }

        Model = model;
        Outcome = wholeObject || realtime ? null : ModelReader.Outcome.Found;
    }
}

using System.Text.Json;

namespace FcHandler.Access;

/// <summary>
/// A resumable scan of a JSON object's top-level properties across buffers (Utf8JsonReader cannot cross an await):
/// <c>model</c>, where it stops unless <c>wholeObject</c> is set; then also <c>stream</c> and <c>stream_options</c>.
/// Nested objects are passed over, so a tool's parameter called "model" is never taken for the request's.
/// </summary>
internal sealed class JsonTopLevelScan(bool wholeObject)
{
    private JsonReaderState _state;
    private bool _started;
    private Field _next;

    private enum Field
    {
        None,
        Model,
        Stream,
        StreamOptions,
    }

    /// <summary>Set once the scan is over: the model found, none in the whole object, or not a readable object.</summary>
    public ModelReader.Outcome? Outcome { get; private set; }

    public string? Model { get; private set; }

    /// <summary>The top-level <c>stream</c> is <c>true</c> (read only for a whole-object scan).</summary>
    public bool Stream { get; private set; }

    /// <summary>The object has a top-level <c>stream_options</c> (read only for a whole-object scan).</summary>
    public bool HasStreamOptions { get; private set; }

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
        switch (field)
        {
            case Field.Model:
                Model = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                Outcome = Model is null ? ModelReader.Outcome.Unreadable : wholeObject ? null : ModelReader.Outcome.Found;
                return;
            case Field.Stream:
                Stream = reader.TokenType == JsonTokenType.True;
                return;
            case Field.StreamOptions:
                HasStreamOptions = true;
                return;
        }

        if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
        {
            _next = reader.ValueTextEquals("model"u8) ? Field.Model
                : !wholeObject ? Field.None
                : reader.ValueTextEquals("stream"u8) ? Field.Stream
                : reader.ValueTextEquals("stream_options"u8) ? Field.StreamOptions
                : Field.None;
        }
        else if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0)
        {
            Outcome = Model is null ? ModelReader.Outcome.None : ModelReader.Outcome.Found;
        }
    }
}

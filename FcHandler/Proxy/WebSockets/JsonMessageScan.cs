using System.Buffers;
using System.Buffers.Text;
using System.Text;
using FcHandler.Limits;
using FcHandler.Usage;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// A resumable scan of one WebSocket message (a Realtime or Responses API event) as its bytes pass, in any chunking,
/// that holds none of it: only the few values it looks for are kept, each bounded. It reads them where OpenAI's
/// events put them and nowhere else:
/// <list type="bullet">
/// <item>the event's <c>type</c>; every <c>model</c> it names (top-level for a Responses <c>response.create</c>,
/// <c>session.model</c> and the transcription model of a Realtime <c>session.update</c>, <c>response.model</c>);</item>
/// <item>output caps: the top-level <c>max_output_tokens</c> (Responses) and <c>response.max_output_tokens</c>
/// (Realtime), a whole number or <c>"inf"</c>;</item>
/// <item>in the upstream's events: <c>response.id</c> and <c>response.usage</c>.</item>
/// <item>in a client's (<paramref name="readsInput"/>): the first input whose cost its bytes do not bound
/// (<see cref="Unmetered"/>, as <see cref="UnboundedInputScan"/> finds it in an HTTP body), read only where OpenAI reads
/// input: the top-level <c>previous_response_id</c>, <c>conversation</c> and <c>prompt</c> (Responses);
/// <c>session.prompt</c> and <c>response.prompt</c> (Realtime); inside the top-level <c>input</c> and <c>item</c> and
/// <c>response.input</c>, an <c>item_reference</c>, a <c>file_id</c> or <c>file_url</c>, an <c>image_url</c> that is not
/// a data: URL; each entry of <c>tools</c>, <c>session.tools</c> and <c>response.tools</c>, by its type. A tool's
/// JSON schema and metadata are never read. (Realtime's <c>response.conversation</c>, <c>"auto"</c> or
/// <c>"none"</c>, is not stored input.)</item>
/// </list>
/// Utf8JsonReader (as in <c>Access/JsonTopLevelScan</c>) needs each token whole, and an
/// <c>input_audio_buffer.append</c> carries megabytes of audio in one string; this tokenizer skips strings it does not
/// need with a vectorised search and never buffers them. A watched key given twice in one object, a <c>type</c> or
/// <c>model</c> that is not a string, a cap that is neither a whole number nor <c>"inf"</c>, or anything that is not
/// one JSON object makes the message <see cref="Problem">ambiguous</see>: OpenAI takes the last of two duplicate keys,
/// and the proxy does not guess.
/// https://platform.openai.com/docs/api-reference/realtime-client-events,
/// https://developers.openai.com/api/reference/resources/responses/websocket-events
/// </summary>
/// <param name="readsInput">A client's messages: looks for input the message only refers to, and tools OpenAI runs.</param>
internal sealed class JsonMessageScan(bool readsInput = false)
{
    /// <summary>Deeper nesting than this is refused (Utf8JsonReader's own default limit).</summary>
    public const int MaxDepth = 64;

    // Watched values (type, model, ids, caps) are short; a longer one cannot be a model id a scope names.
    private const int MaxText = 256;
    private const int MaxUsageBytes = UsageScanner.MaxUsageBytes;

    private static readonly SearchValues<byte> StringStops = SearchValues.Create("\"\\"u8);

    private readonly byte[] _text = new byte[MaxText];
    private readonly Field[] _containers = new Field[MaxDepth];
    private readonly uint[] _seen = new uint[MaxDepth];
    private readonly List<string> _models = [];
    private byte[]? _usage;
    private int _usageLength;
    private int _usageDepth = -1;
    private ulong _arrays; // bit d: the container at depth d is an array
    private int _depth;
    private Lex _lex;
    private bool _inKey;
    private bool _keepText;
    private int _textLength;
    private bool _textOverflow;
    private int _unicode; // \uXXXX: the digits read so far, and the value
    private int _unicodeValue;
    private int _highSurrogate;
    private Field _valueField;
    private string? _literal; // the literal (true, false, null) or number under way
    private int _literalLength;
    private bool _started;
    private string? _problem;
    private long? _capMax;
    private bool _capInfinite;
    private Field _region; // Input or Tools while inside one (they never nest), from the container at _regionDepth
    private int _regionDepth;
    private string? _toolType; // the tools entry under way
    private string? _toolEnvironment;
    private string? _toolExecution;

    private enum Lex : byte
    {
        Value,
        ValueOrEnd,
        KeyOrEnd,
        Key,
        Colon,
        AfterValue,
        String,
        Escape,
        Unicode,
        Number,
        Literal,
        Done,
    }

    // What a key names, by where it is. Containers name the objects whose keys are watched.
    private enum Field : byte
    {
        None,
        Root,
        Type,
        Model,
        MaxOutputTokens,
        Session,
        Response,
        SessionAudio,
        AudioInput,
        Transcription,
        ResponseId,
        Usage,

        // Where a client's message carries input (readsInput), and what is read there.
        PreviousResponseId,
        Conversation,
        Prompt,
        Input,
        Tools,
        InputType,
        FileId,
        FileUrl,
        ImageUrl,
        ToolEntry,
        ToolType,
        ToolExecution,
        ToolEnvironment,
        EnvironmentType,
    }

    /// <summary>Why the message cannot be read one way only (for the close reason); null while it can.</summary>
    public string? Problem => _problem;

    /// <summary>The top-level <c>type</c>, once read.</summary>
    public string? Type { get; private set; }

    /// <summary>Every model the message names, in order.</summary>
    public IReadOnlyList<string> Models => _models;

    /// <summary>The model a response runs on, as the message names it (not a transcription model); null when it names none.</summary>
    public string? MainModel { get; private set; }

    /// <summary>The output cap the message sets (the larger, if it sets two); null when it sets none, or <c>"inf"</c>.</summary>
    public long? MaxOutputTokens => _capInfinite ? null : _capMax;

    /// <summary><c>response.id</c>, in the upstream's events.</summary>
    public string? ResponseId { get; private set; }

    /// <summary>The counts of <c>response.usage</c>, in the upstream's events.</summary>
    public TokenUsage? Usage { get; private set; }

    /// <summary>
    /// In a client's message, the first input whose cost its bytes do not bound: the class <c>unmetered=</c> names, and
    /// what it is (<see cref="UnmeteredInput"/>); null when none.
    /// </summary>
    public (string Class, string What)? Unmetered { get; private set; }

    /// <summary>Made ready for the next message.</summary>
    public void Reset()
    {
        _models.Clear();
        _usageLength = 0;
        _usageDepth = -1;
        _arrays = 0;
        _depth = 0;
        _lex = Lex.Value;
        _literal = null;
        _started = false;
        _problem = null;
        Type = null;
        ResponseId = null;
        MainModel = null;
        Usage = null;
        _capMax = null;
        _capInfinite = false;
        _region = Field.None;
        Unmetered = null;
    }

    /// <summary>The next bytes of the message (unmasked).</summary>
    public void Advance(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length && _problem is null)
        {
            if (_lex == Lex.String)
            {
                // The bulk of any message: string contents, skipped (or kept, when watched) up to a quote or backslash.
                var run = data[i..].IndexOfAny(StringStops);
                var length = run < 0 ? data.Length - i : run;
                Keep(data.Slice(i, length));
                Capture(data.Slice(i, length));
                i += length;
                if (run < 0)
                {
                    return;
                }
            }

            var b = data[i++];
            Capture(new ReadOnlySpan<byte>(in b));
            Step(b);
        }
    }

    /// <summary>The message has ended: anything short of one whole JSON object is a problem.</summary>
    public void End()
    {
        if (_problem is null && _lex == Lex.Number)
        {
            EndLiteral(); // a bare number ends at the message's end; never a whole object, so refused below
        }

        if (_problem is null && _lex != Lex.Done)
        {
            _problem = "not one whole JSON object";
        }
    }

    private void Step(byte b)
    {
        switch (_lex)
        {
            case Lex.String:
                if (b == '"')
                {
                    EndString();
                }
                else
                {
                    _lex = Lex.Escape; // a backslash
                }

                return;
            case Lex.Escape:
                _lex = Lex.String;
                switch (b)
                {
                    case (byte)'u':
                        (_lex, _unicode, _unicodeValue) = (Lex.Unicode, 0, 0);
                        return;
                    case (byte)'"' or (byte)'\\' or (byte)'/':
                        KeyByte(b);
                        return;
                    case (byte)'b':
                        KeyByte(8);
                        return;
                    case (byte)'f':
                        KeyByte(12);
                        return;
                    case (byte)'n':
                        KeyByte((byte)'\n');
                        return;
                    case (byte)'r':
                        KeyByte((byte)'\r');
                        return;
                    case (byte)'t':
                        KeyByte((byte)'\t');
                        return;
                    default:
                        _problem = "not one whole JSON object";
                        return;
                }

            case Lex.Unicode:
                var digit = HexValue(b);
                if (digit < 0)
                {
                    _problem = "not one whole JSON object";
                    return;
                }

                _unicodeValue = (_unicodeValue << 4) | digit;
                if (++_unicode == 4)
                {
                    _lex = Lex.String;
                    KeyCodeUnit(_unicodeValue);
                }

                return;
            case Lex.Number or Lex.Literal:
                if (_lex == Lex.Number ? IsNumberByte(b) : _literalLength < _literal!.Length)
                {
                    LiteralByte(b);
                    return;
                }

                EndLiteral();
                if (_problem is null)
                {
                    Step(b); // the byte after a number belongs to what follows it
                }

                return;
        }

        if (b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
        {
            return;
        }

        switch (_lex)
        {
            case Lex.Value or Lex.ValueOrEnd:
                if (b == ']' && _lex == Lex.ValueOrEnd)
                {
                    Close();
                    return;
                }

                StartValue(b);
                return;
            case Lex.KeyOrEnd or Lex.Key:
                if (b == '}' && _lex == Lex.KeyOrEnd)
                {
                    Close();
                    return;
                }

                if (b != '"')
                {
                    break;
                }

                (_lex, _inKey, _keepText, _textLength, _textOverflow, _highSurrogate) = (Lex.String, true, Watching, 0, false, 0);
                return;
            case Lex.Colon:
                if (b != ':')
                {
                    break;
                }

                _lex = Lex.Value;
                return;
            case Lex.AfterValue:
                var inArray = (_arrays & (1UL << _depth)) != 0;
                if (b == ',')
                {
                    _lex = inArray ? Lex.Value : Lex.Key;
                    _valueField = Field.None;
                    return;
                }

                if (b == (inArray ? ']' : '}'))
                {
                    Close();
                    return;
                }

                break;
        }

        _problem = "not one whole JSON object";
    }

    // Keys are watched only in watched objects; their values only under a watched key.
    private bool Watching => _containers[_depth] != Field.None;

    private void StartValue(byte b)
    {
        var field = _valueField;
        if (!_started)
        {
            _started = true;
            if (b != '{')
            {
                _problem = "not one whole JSON object";
                return;
            }

            field = Field.Root;
        }

        if (field is Field.PreviousResponseId or Field.Conversation or Field.Prompt && b != 'n')
        {
            // There and not null, whatever its shape: OpenAI reads the stored input it names.
            Find(UnmeteredInput.StoredReference(Name(field)));
        }

        switch (b)
        {
            case (byte)'{' or (byte)'[':
                if (field is Field.Type or Field.Model or Field.ResponseId or Field.MaxOutputTokens)
                {
                    _problem = $"{Name(field)} is not a string";
                    return;
                }

                if (_depth + 1 >= MaxDepth)
                {
                    _problem = "nested too deeply";
                    return;
                }

                if (field == Field.Usage && b == '{' && _usageDepth < 0)
                {
                    _usage ??= new byte[MaxUsageBytes];
                    (_usage[0], _usageLength, _usageDepth) = (b, 1, _depth + 1);
                }

                _depth++;
                var array = b == '[';
                _arrays = array ? _arrays | (1UL << _depth) : _arrays & ~(1UL << _depth);
                if (field is Field.Input or Field.Tools && _region == Field.None)
                {
                    (_region, _regionDepth) = (field, _depth);
                }

                _containers[_depth] = array ? Field.None : Container(field);
                _seen[_depth] = 0;
                if (_containers[_depth] == Field.ToolEntry)
                {
                    (_toolType, _toolEnvironment, _toolExecution) = (null, null, null);
                }

                _lex = array ? Lex.ValueOrEnd : Lex.KeyOrEnd;
                _valueField = Field.None;
                return;
            case (byte)'"':
                (_lex, _inKey, _keepText, _textLength, _textOverflow, _highSurrogate) = (Lex.String, false, field is Field.Type or Field.Model
                    or Field.ResponseId or Field.MaxOutputTokens or Field.InputType or Field.ImageUrl or Field.ToolType or Field.ToolExecution or Field.EnvironmentType,
                    0, false, 0);
                switch (field)
                {
                    case Field.FileId:
                        Find(UnmeteredInput.FileById);
                        break;
                    case Field.FileUrl:
                        Find(UnmeteredInput.FileByUrl);
                        break;
                }

                return;
            case (byte)'t':
                StartLiteral("true", b);
                return;
            case (byte)'f':
                StartLiteral("false", b);
                return;
            case (byte)'n':
                StartLiteral("null", b);
                return;
            default:
                if (b == '-' || (b >= '0' && b <= '9'))
                {
                    _lex = Lex.Number;
                    _literal = null;
                    _literalLength = 0;
                    _textLength = 0;
                    _textOverflow = false;
                    LiteralByte(b);
                    return;
                }

                _problem = "not one whole JSON object";
                return;
        }
    }

    private void Close()
    {
        if (_usageDepth == _depth)
        {
            Usage = UsageParser.TryParse(_usage.AsSpan(0, _usageLength), out var usage) ? usage : null; // a count named twice reads as none
            _usageDepth = -2; // one usage object per event
        }

        if (_containers[_depth] == Field.ToolEntry && UnmeteredInput.IsHosted(_toolType, _toolEnvironment, _toolExecution))
        {
            Find(UnmeteredInput.HostedTool(_toolType));
        }

        if (_region != Field.None && _depth == _regionDepth)
        {
            _region = Field.None;
        }

        _depth--;
        _valueField = Field.None;
        _lex = _depth == 0 ? Lex.Done : Lex.AfterValue;
    }

    private void EndString()
    {
        if (_inKey)
        {
            _valueField = _keepText && !_textOverflow ? KeyField(_containers[_depth], _text.AsSpan(0, _textLength)) : Field.None;
            if (_valueField != Field.None)
            {
                var bit = 1u << (int)_valueField;
                if ((_seen[_depth] & bit) != 0)
                {
                    _problem = $"the key '{Name(_valueField)}' is given twice";
                    return;
                }

                _seen[_depth] |= bit;
            }

            _lex = Lex.Colon;
            return;
        }

        _lex = Lex.AfterValue;
        if (!_keepText)
        {
            return;
        }

        var text = _textOverflow ? null : Encoding.UTF8.GetString(_text, 0, _textLength);
        switch (_valueField)
        {
            case Field.Type:
                Type = text ?? "";
                break;
            case Field.Model:
                var model = text ?? Encoding.UTF8.GetString(_text, 0, _textLength) + "...";
                _models.Add(model);
                if (_containers[_depth] != Field.Transcription)
                {
                    MainModel ??= model;
                }

                break;
            case Field.ResponseId:
                ResponseId = text;
                break;
            case Field.InputType when text == "item_reference":
                Find(UnmeteredInput.ItemReference);
                break;
            case Field.ImageUrl when !UnmeteredInput.IsInline(_text.AsSpan(0, _textLength)): // its first bytes are kept, decoded
                Find(UnmeteredInput.ImageByUrl);
                break;
            case Field.ToolType:
                _toolType = text ?? Encoding.UTF8.GetString(_text, 0, _textLength) + "...";
                break;
            case Field.ToolExecution:
                _toolExecution = text;
                break;
            case Field.EnvironmentType:
                _toolEnvironment = text;
                break;
            case Field.MaxOutputTokens:
                if (text != "inf")
                {
                    _problem = "max_output_tokens is neither a whole number nor \"inf\"";
                    return;
                }

                _capInfinite = true;
                break;
        }
    }

    private void StartLiteral(string literal, byte first)
    {
        _lex = Lex.Literal;
        _literal = literal;
        _literalLength = 0;
        LiteralByte(first);
    }

    private void LiteralByte(byte b)
    {
        if (_literal is not null)
        {
            if (_literal[_literalLength] != b)
            {
                _problem = "not one whole JSON object";
                return;
            }

            _literalLength++;
            return;
        }

        // A number: kept (bounded) for a cap.
        if (_textLength < 32)
        {
            _text[_textLength++] = b;
        }
        else
        {
            _textOverflow = true;
        }
    }

    private void EndLiteral()
    {
        var field = _valueField;
        _lex = Lex.AfterValue;
        if (_literal is not null)
        {
            if (_literalLength != _literal.Length)
            {
                _problem = "not one whole JSON object";
                return;
            }

            if (field is Field.Type or Field.Model or Field.ResponseId)
            {
                _problem = $"{Name(field)} is not a string";
            }
            else if (field == Field.MaxOutputTokens)
            {
                if (_literal != "null")
                {
                    _problem = "max_output_tokens is neither a whole number nor \"inf\"";
                    return;
                }

                // null: no cap, as if the key were absent
            }

            _literal = null;
            return;
        }

        if (field is Field.Type or Field.Model or Field.ResponseId)
        {
            _problem = $"{Name(field)} is not a string";
            return;
        }

        if (field == Field.MaxOutputTokens)
        {
            if (_textOverflow || !Utf8Parser.TryParse(_text.AsSpan(0, _textLength), out long cap, out var consumed) || consumed != _textLength || cap < 0)
            {
                _problem = "max_output_tokens is neither a whole number nor \"inf\"";
                return;
            }

            // Two caps (top-level and response.*, in different objects): the larger bounds the response.
            _capMax = _capMax is { } held ? Math.Max(held, cap) : cap;
        }
    }

    private void Keep(ReadOnlySpan<byte> run)
    {
        if (!_keepText)
        {
            return;
        }

        if (_textLength + run.Length > MaxText)
        {
            // Too long to be what is watched; its first bytes are kept (an image URL's "data:", a model for the log).
            run[..(MaxText - _textLength)].CopyTo(_text.AsSpan(_textLength));
            (_textLength, _textOverflow) = (MaxText, true);
            return;
        }

        run.CopyTo(_text.AsSpan(_textLength));
        _textLength += run.Length;
    }

    // The first found is the one said.
    private void Find((string Class, string What) found) => Unmetered ??= found;

    // The object a value opens: watched for the keys its place gives it, or not at all (a tool's schema, metadata).
    private Field Container(Field field) => field switch
    {
        Field.Root or Field.Session or Field.Response or Field.SessionAudio or Field.AudioInput or Field.Transcription or Field.ImageUrl or Field.ToolEnvironment => field,
        _ when _region == Field.Input => Field.Input,
        _ when _region == Field.Tools && _depth == _regionDepth + 1 => Field.ToolEntry,
        _ => Field.None,
    };

    private void KeyByte(byte b) => Keep(new ReadOnlySpan<byte>(in b));

    // A \uXXXX escape, as UTF-8 (a surrogate pair as one character).
    private void KeyCodeUnit(int unit)
    {
        if (!_keepText)
        {
            return;
        }

        if (unit is >= 0xD800 and <= 0xDBFF)
        {
            _highSurrogate = unit;
            return;
        }

        var rune = _highSurrogate != 0 && unit is >= 0xDC00 and <= 0xDFFF
            ? new Rune((char)_highSurrogate, (char)unit)
            : Rune.IsValid(unit) ? new Rune(unit) : Rune.ReplacementChar;
        _highSurrogate = 0;
        Span<byte> utf8 = stackalloc byte[4];
        Keep(utf8[..rune.EncodeToUtf8(utf8)]);
    }

    private void Capture(ReadOnlySpan<byte> bytes)
    {
        if (_usageDepth < 0 || bytes.IsEmpty)
        {
            return;
        }

        if (_usageLength + bytes.Length > MaxUsageBytes)
        {
            _usageDepth = -2; // longer than any usage OpenAI writes: not one
            return;
        }

        bytes.CopyTo(_usage.AsSpan(_usageLength));
        _usageLength += bytes.Length;
    }

    private Field KeyField(Field container, ReadOnlySpan<byte> key) => container switch
    {
        Field.Root => key.SequenceEqual("type"u8) ? Field.Type
            : key.SequenceEqual("model"u8) ? Field.Model
            : key.SequenceEqual("max_output_tokens"u8) ? Field.MaxOutputTokens
            : key.SequenceEqual("session"u8) ? Field.Session
            : key.SequenceEqual("response"u8) ? Field.Response
            : !readsInput ? Field.None
            : key.SequenceEqual("previous_response_id"u8) ? Field.PreviousResponseId // the Responses API's
            : key.SequenceEqual("conversation"u8) ? Field.Conversation
            : key.SequenceEqual("prompt"u8) ? Field.Prompt
            : key.SequenceEqual("input"u8) || key.SequenceEqual("item"u8) ? Field.Input // item: conversation.item.create's
            : key.SequenceEqual("tools"u8) ? Field.Tools
            : Field.None,
        Field.Session => key.SequenceEqual("model"u8) ? Field.Model
            : key.SequenceEqual("audio"u8) ? Field.SessionAudio
            : key.SequenceEqual("input_audio_transcription"u8) ? Field.Transcription // the beta interface's
            : readsInput && key.SequenceEqual("prompt"u8) ? Field.Prompt
            : readsInput && key.SequenceEqual("tools"u8) ? Field.Tools
            : Field.None,
        Field.SessionAudio => key.SequenceEqual("input"u8) ? Field.AudioInput : Field.None,
        Field.AudioInput => key.SequenceEqual("transcription"u8) ? Field.Transcription : Field.None,
        Field.Transcription => key.SequenceEqual("model"u8) ? Field.Model : Field.None,
        Field.Response => key.SequenceEqual("model"u8) ? Field.Model
            : key.SequenceEqual("max_output_tokens"u8) ? Field.MaxOutputTokens
            : key.SequenceEqual("id"u8) ? Field.ResponseId
            : key.SequenceEqual("usage"u8) ? Field.Usage
            : !readsInput ? Field.None
            : key.SequenceEqual("prompt"u8) ? Field.Prompt // Realtime's; its conversation ("auto", "none") is not stored input
            : key.SequenceEqual("tools"u8) ? Field.Tools
            : key.SequenceEqual("input"u8) ? Field.Input
            : Field.None,
        Field.Input => key.SequenceEqual("type"u8) ? Field.InputType
            : key.SequenceEqual("file_id"u8) ? Field.FileId
            : key.SequenceEqual("file_url"u8) ? Field.FileUrl
            : key.SequenceEqual("image_url"u8) ? Field.ImageUrl
            : Field.None,
        Field.ImageUrl => key.SequenceEqual("url"u8) ? Field.ImageUrl : KeyField(Field.Input, key), // chat's shape: {"image_url":{"url":...}}
        Field.ToolEntry => key.SequenceEqual("type"u8) ? Field.ToolType
            : key.SequenceEqual("execution"u8) ? Field.ToolExecution
            : key.SequenceEqual("environment"u8) ? Field.ToolEnvironment
            : Field.None,
        Field.ToolEnvironment => key.SequenceEqual("type"u8) ? Field.EnvironmentType : Field.None,
        _ => Field.None,
    };

    private static string Name(Field field) => field switch
    {
        Field.Type => "type",
        Field.Model => "model",
        Field.MaxOutputTokens => "max_output_tokens",
        Field.ResponseId => "id",
        Field.Session => "session",
        Field.Response => "response",
        Field.Usage => "usage",
        Field.SessionAudio => "audio",
        Field.AudioInput or Field.Input => "input",
        Field.Transcription => "transcription",
        Field.PreviousResponseId => "previous_response_id",
        Field.Conversation => "conversation",
        Field.Prompt => "prompt",
        Field.Tools => "tools",
        Field.InputType or Field.ToolType or Field.EnvironmentType => "type",
        Field.FileId => "file_id",
        Field.FileUrl => "file_url",
        Field.ImageUrl => "image_url",
        Field.ToolExecution => "execution",
        Field.ToolEnvironment => "environment",
        _ => "?",
    };

    private static bool IsNumberByte(byte b) => b is (>= (byte)'0' and <= (byte)'9') or (byte)'-' or (byte)'+' or (byte)'.' or (byte)'e' or (byte)'E';

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}

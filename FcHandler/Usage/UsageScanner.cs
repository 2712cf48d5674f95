using System.Buffers;
using System.Runtime.CompilerServices;

namespace FcHandler.Usage;

/// <summary>
/// Finds OpenAI's <c>usage</c> object in a response body as the body passes, whatever the chunking, and only where
/// OpenAI puts it (<see cref="UsagePlaces"/>): the top-level <c>usage</c> of a JSON answer or of a stream event's data
/// object, or <c>response.usage</c> of an event whose top-level <c>type</c> ends a response. A <c>usage</c> anywhere
/// else (a tool schema or metadata the answer echoes from the request, output text, a function call's arguments) is
/// the client's own text: believing it would let a client set its own charge.
/// <para>
/// It never holds the body and builds no document. It follows the JSON's nesting with vectorised searches for the
/// bytes that change it: quotes and brackets everywhere, and also <c>,</c> and <c>:</c> at the two levels whose member
/// names matter (a root object, and its <c>response</c> object), where the names <c>usage</c>, <c>type</c> and
/// <c>response</c> are compared. Between roots (an event stream's <c>event:</c> and <c>data:</c> text, <c>[DONE]</c>)
/// it looks only for the next <c>{</c> or <c>[</c>; in an event stream, an event whose one-line data names no
/// <c>"usage":{</c> is passed over whole (most events: a chat chunk's <c>"usage":null</c>, a Responses delta). Inside
/// a string it looks only for the closing quote, so long text and base64 pass quickly. Only the bytes of a usage object split across writes are copied, into a buffer of at most
/// <see cref="MaxUsageBytes"/>.
/// </para>
/// <para>
/// OpenAI never writes a member twice. An object that names <c>usage</c>, <c>type</c> or <c>response</c> twice, or
/// whose usage is too long or repeats a count, is not OpenAI's answer as documented: its usage is unreadable
/// (<see cref="Unreadable"/>), and a budget keeps the whole reservation rather than guess which of two counts a client's
/// parser would believe.
/// </para>
/// </summary>
internal sealed class UsageScanner(UsagePlaces places, bool eventStream = false)
{
    /// <summary>
    /// The longest usage object kept across writes: chat's, with both detail objects, is about 330 bytes, Realtime's
    /// about 300; a longer one at a usage place is not OpenAI's count.
    /// </summary>
    public const int MaxUsageBytes = 2048;

    private const byte NestingStop = 2; // '"' and the brackets
    private const byte MemberStop = 4; // '"', the brackets, ',' ':'

    private static readonly SearchValues<byte> Braces = SearchValues.Create("\"\\{}"u8);

    private TokenUsage? _usage;

    // Where the scanner is in the JSON.
    private int _depth; // objects and arrays open; 0 between roots
    private bool _rootIsObject;
    private bool _inResponse; // depth 2 is the root's "response" object
    private bool _inString;
    private bool _escaped;
    private Phase _phase; // at a level whose member names matter
    private Member _member; // the member whose value comes next there
    private TextUse _text; // what the string under way is copied for
    private NameBuffer _name;
    private int _nameLength; // -1: not a name compared (too long, or escaped)

    // The root under way.
    private Found _topUsage;
    private Found _responseUsage;
    private bool _endsResponse;
    private int _namedAtTop; // the compared members the root has named, a bit each
    private int _namedInResponse;
    private bool _repeatedMember;

    // A usage object under way.
    private bool _capturing;
    private int _captureDepth;
    private byte[]? _captured;
    private int _capturedLength;
    private bool _captureTooLong;

    public UsageScanner()
        : this(UsagePlaces.Answers)
    {
    }

    private enum Phase
    {
        Key,
        Colon,
        Value,
        AfterValue,
    }

    private enum Member
    {
        Other,
        Usage,
        Type,
        Response,
    }

    private enum TextUse
    {
        None,
        Key,
        Type,
    }

    /// <summary>The last usage read at a usage place, or null (none yet, or <see cref="Unreadable"/>).</summary>
    public TokenUsage? Usage => Unreadable ? null : _usage;

    /// <summary>A usage place held something that is not one clear count (see the class summary).</summary>
    public bool Unreadable { get; private set; }

    public void Observe(ReadOnlySpan<byte> data)
    {
        var i = 0;
        while (i < data.Length)
        {
            i = _capturing ? Capture(data, i) : _inString ? InString(data, i) : Structure(data, i);
        }
    }

    /// <summary>Releases the capture buffer; the scanner sees nothing more.</summary>
    public void Complete()
    {
        StopCapturing();
        _capturing = false;
    }

    // Which bytes each kind of search stops at (a bit each: 2 nesting, 4 member syntax). Outside strings OpenAI's JSON is mostly these bytes, short numbers and
    // null, so a loop over a table beats a vectorised search that would start again at every stop; inside strings,
    // where the long text is, the search for the closing quote is vectorised.
    private static ReadOnlySpan<byte> Stops =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, // '"' 34, ',' 44, ':' 58
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 6, 0, 0, // '[' 91, ']' 93
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 6, 0, 0, // '{' 123, '}' 125
    ];

    private static int NextOf(ReadOnlySpan<byte> data, int i, byte kind)
    {
        var stops = Stops;
        for (; i < data.Length; i++)
        {
            var b = data[i];
            if (b < 128 && (stops[b] & kind) != 0)
            {
                return i;
            }
        }

        return -1;
    }

    // An event stream's event whose data is one line, followed by its blank line in this write, and names no
    // "usage":{ at all: it holds no usage, and is passed over with two searches instead of followed (a chat chunk has
    // "usage":null, a Responses delta no usage). Returns where the next event starts, or 0 to follow the event.
    // An event ends at its blank line (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
    // and OpenAI writes each event's data on one line.
    private static int EventWithoutUsageObject(ReadOnlySpan<byte> data, int root)
    {
        var newline = data[root..].IndexOf((byte)'\n');
        if (newline < 0)
        {
            return 0;
        }

        var lineEnd = root + newline + 1;
        var rest = data[lineEnd..];
        var blank = rest.StartsWith("\n"u8) ? 1 : rest.StartsWith("\r\n"u8) ? 2 : 0;
        if (blank == 0)
        {
            return 0;
        }

        var line = data[root..lineEnd];
        for (var key = line.IndexOf("\"usage\""u8); key >= 0; key = line.IndexOf("\"usage\""u8))
        {
            line = line[(key + 7)..];
            var colon = line.IndexOfAnyExcept(" \t\r"u8);
            if (colon >= 0 && line[colon] == (byte)':' && line[(colon + 1)..].IndexOfAnyExcept(" \t\r"u8) is var value and >= 0
                && line[colon + 1 + value] == (byte)'{')
            {
                return 0;
            }
        }

        return lineEnd + blank;
    }

    private bool AtMemberLevel => (_depth == 1 && _rootIsObject) || (_depth == 2 && _inResponse);

    private int Structure(ReadOnlySpan<byte> data, int i)
    {
        if (_depth == 0)
        {
            var root = data[i..].IndexOfAny((byte)'{', (byte)'[');
            if (root < 0)
            {
                return data.Length;
            }

            if (eventStream && EventWithoutUsageObject(data, i + root) is var after and > 0)
            {
                return after;
            }

            StartRoot(isObject: data[i + root] == (byte)'{');
            return i + root + 1;
        }

        var memberLevel = AtMemberLevel;
        var at = NextOf(data, i, memberLevel ? MemberStop : NestingStop);
        if (at < 0)
        {
            return data.Length;
        }

        var b = data[at];
        if (!memberLevel)
        {
            Nest(b);
        }
        else if (b == (byte)'{' && _phase == Phase.Value && _member == Member.Usage)
        {
            _capturing = true; // the object starts at 'at': Capture reads it from its brace
            _captureDepth = 0;
            _capturedLength = 0;
            _captureTooLong = false;
            return at;
        }
        else
        {
            MemberSyntaxByte(b);
        }

        return at + 1;
    }

    // A byte that matters at a level whose member names are compared.
    private void MemberSyntaxByte(byte b)
    {
        switch (b)
        {
            case (byte)'"':
                _inString = true;
                _text = _phase == Phase.Key ? TextUse.Key
                    : _phase == Phase.Value && _member == Member.Type && _depth == 1 ? TextUse.Type
                    : TextUse.None;
                _nameLength = 0;
                if (_phase == Phase.Value)
                {
                    _phase = Phase.AfterValue;
                }

                break;
            case (byte)':':
                _phase = _phase == Phase.Colon ? Phase.Value : _phase;
                break;
            case (byte)',':
                _phase = Phase.Key;
                _member = Member.Other;
                break;
            case (byte)'{' when _phase == Phase.Value && _member == Member.Response && _depth == 1:
                _depth = 2;
                _inResponse = true;
                _phase = Phase.Key;
                _member = Member.Other;
                break;
            default:
                _phase = Phase.AfterValue;
                Nest(b);
                break;
        }
    }

    private void Nest(byte b)
    {
        switch (b)
        {
            case (byte)'"':
                _inString = true;
                _text = TextUse.None;
                break;
            case (byte)'{' or (byte)'[':
                _depth++;
                break;
            default:
                Close();
                break;
        }
    }

    private void Close()
    {
        _depth--;
        if (_depth == 0)
        {
            return;
        }

        if (_depth == 1)
        {
            _inResponse = false;
        }

        _phase = Phase.AfterValue;
    }

    private void StartRoot(bool isObject)
    {
        _depth = 1;
        _rootIsObject = isObject;
        _inResponse = false;
        _phase = Phase.Key;
        _member = Member.Other;
        _topUsage = default;
        _responseUsage = default;
        _endsResponse = false;
        _namedAtTop = 0;
        _namedInResponse = 0;
        _repeatedMember = false;
    }

    // What the root under way says so far, once a usage, a type or a repeated name is read: its usage counts once it
    // sits at a usage place, without waiting for the root to close (a JSON answer may be read only in part: see
    // ResponseObserver). A usage object is only ever read whole.
    private void Settle()
    {
        var top = places.TopLevel ? _topUsage : default;
        var response = _endsResponse ? _responseUsage : default;
        if ((_repeatedMember && (_topUsage.Seen || _responseUsage.Seen)) || (top.Seen && response.Seen))
        {
            Unreadable = true; // two usages, or two names that say where the usage is: not one clear count
            return;
        }

        var counted = top.Seen ? top : response;
        if (counted.IsUnreadable)
        {
            Unreadable = true;
        }
        else if (counted.Usage is { } usage)
        {
            _usage = usage;
        }
    }

    private int InString(ReadOnlySpan<byte> data, int i)
    {
        int end;
        while (true)
        {
            if (_escaped)
            {
                if (i >= data.Length)
                {
                    return i;
                }

                _escaped = false;
                i++; // the escaped byte; escapes go on in this loop, not one return per escape
            }

            var next = data[i..].IndexOfAny((byte)'"', (byte)'\\');
            end = next < 0 ? data.Length : i + next;
            if (_text != TextUse.None)
            {
                KeepName(data[i..end]);
            }

            if (next < 0)
            {
                return data.Length;
            }

            if (data[end] == (byte)'"')
            {
                break;
            }

            _escaped = true;
            _nameLength = -1; // OpenAI escapes nothing in the names compared
            i = end + 1;
        }

        _inString = false;
        if (_text == TextUse.Key)
        {
            NameRead();
        }
        else if (_text == TextUse.Type)
        {
            _endsResponse = _nameLength > 0 && places.EndsResponse(_name[.._nameLength]);
            Settle();
        }

        return end + 1;
    }

    private void KeepName(ReadOnlySpan<byte> part)
    {
        if (_nameLength < 0 || _nameLength + part.Length > NameBuffer.Length)
        {
            _nameLength = -1;
            return;
        }

        part.CopyTo(_name[_nameLength..]);
        _nameLength += part.Length;
    }

    // A member's name was read at a level whose names matter: which member's value comes next.
    private void NameRead()
    {
        _phase = Phase.Colon;
        var name = _nameLength < 0 ? default : _name[.._nameLength];
        _member = name.SequenceEqual("usage"u8) ? Member.Usage
            : _depth == 1 && name.SequenceEqual("type"u8) ? Member.Type
            : _depth == 1 && name.SequenceEqual("response"u8) ? Member.Response
            : Member.Other;
        if (_member == Member.Other)
        {
            return;
        }

        // Every member compared is counted: a second one makes the root ambiguous.
        ref var seen = ref _depth == 2 ? ref _namedInResponse : ref _namedAtTop;
        var bit = 1 << (int)_member;
        if ((seen & bit) != 0)
        {
            _repeatedMember = true;
            Settle();
        }

        seen |= bit;
    }

    // Reading a usage object from its '{': finds where it closes, then parses it.
    private int Capture(ReadOnlySpan<byte> data, int i)
    {
        var end = ObjectEnd(data, i);
        if (end < 0)
        {
            Keep(data[i..]);
            return data.Length;
        }

        Found found;
        if (_capturedLength == 0 && !_captureTooLong)
        {
            // The usual case: the whole object in one write, no copy.
            found = end + 1 - i > MaxUsageBytes ? Found.Unreadable : Found.Of(data[i..(end + 1)]);
        }
        else
        {
            Keep(data[i..(end + 1)]);
            found = _captureTooLong ? Found.Unreadable : Found.Of(_captured.AsSpan(0, _capturedLength));
        }

        StopCapturing();
        _capturing = false;
        _phase = Phase.AfterValue;
        if (_depth == 2)
        {
            _responseUsage = found;
        }
        else
        {
            _topUsage = found;
        }

        Settle();
        return end + 1;
    }

    // The index of the '}' that closes the usage object, or -1 if it does not close in data.
    private int ObjectEnd(ReadOnlySpan<byte> data, int i)
    {
        while (i < data.Length)
        {
            if (_inString)
            {
                if (_escaped)
                {
                    _escaped = false;
                    i++;
                    continue;
                }

                var special = data[i..].IndexOfAny((byte)'"', (byte)'\\');
                if (special < 0)
                {
                    return -1;
                }

                i += special;
                _escaped = data[i] == (byte)'\\';
                _inString = data[i] != (byte)'"';
                i++;
                continue;
            }

            var next = data[i..].IndexOfAny(Braces);
            if (next < 0)
            {
                return -1;
            }

            i += next;
            switch (data[i])
            {
                case (byte)'"':
                    _inString = true;
                    break;
                case (byte)'{':
                    _captureDepth++;
                    break;
                case (byte)'}':
                    if (--_captureDepth == 0)
                    {
                        return i;
                    }

                    break;
            }

            i++;
        }

        return -1;
    }

    // Copies part of a usage object that spans writes; past MaxUsageBytes it stops copying, and the object is
    // followed to its end as unreadable.
    private void Keep(ReadOnlySpan<byte> part)
    {
        if (_captureTooLong)
        {
            return;
        }

        if (_capturedLength + part.Length > MaxUsageBytes)
        {
            _captureTooLong = true;
            StopCapturing();
            return;
        }

        _captured ??= ArrayPool<byte>.Shared.Rent(MaxUsageBytes);
        part.CopyTo(_captured.AsSpan(_capturedLength));
        _capturedLength += part.Length;
    }

    private void StopCapturing()
    {
        if (_captured is not null)
        {
            ArrayPool<byte>.Shared.Return(_captured);
            _captured = null;
        }

        _capturedLength = 0;
    }

    /// <summary>What one usage place of the root under way held: nothing (or null), a usage, or something unreadable.</summary>
    private readonly record struct Found(bool Seen, bool IsUnreadable, TokenUsage? Usage)
    {
        public static Found Unreadable => new(true, true, null);

        public static Found Of(ReadOnlySpan<byte> usageObject)
            => UsageParser.TryParse(usageObject, out var usage) ? new(true, false, usage) : Unreadable;
    }

    /// <summary>Room for the names compared: the longest is <c>response.incomplete</c>.</summary>
    [InlineArray(Length)]
    private struct NameBuffer
    {
        public const int Length = 32;

        private byte _first;
    }
}

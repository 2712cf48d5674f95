using System.Buffers;

namespace FcHandler.Usage;

/// <summary>
/// Finds OpenAI's <c>usage</c> object in a response body as the body passes, whatever the chunking: a JSON answer
/// (compact or pretty-printed), or the events of a stream (a chat chunk with <c>"usage":{</c>, the Responses API's
/// <c>response.completed</c>, a transcription's <c>transcript.text.done</c>). It never holds the body: an ordinary
/// write costs one vectorised search for the key <c>"usage"</c>, and only bytes of a <c>"usage":{...}</c> object
/// split across writes are copied, into a buffer of at most <see cref="MaxUsageBytes"/>. The last usage object in
/// the body wins: a Responses body echoes its tools (whose schemas may name a property "usage") before the real one.
/// </summary>
internal sealed class UsageScanner
{
    /// <summary>
    /// The longest usage object kept across writes: chat's, with both detail objects, is about 330 bytes, Realtime's
    /// about 300; a longer object named "usage" is someone's schema, not a count.
    /// </summary>
    public const int MaxUsageBytes = 2048;

    private static readonly SearchValues<byte> Structural = SearchValues.Create("\"\\{}"u8);

    private State _state;
    private int _partialKey; // Searching: how many bytes of the key ended the last write (a key split between writes)
    private byte _beforePartialKey; // the byte before that partial key
    private int _phaseStart; // where, in the current write, the search began
    private byte _previousByte; // the byte before the current write
    private byte[]? _captured; // Capturing: the object's bytes so far, when it spans writes
    private int _capturedLength;
    private int _depth;
    private bool _inString;
    private bool _escaped;

    private enum State
    {
        Searching,
        AfterKey,
        AfterColon,
        Capturing,
    }

    /// <summary>The last usage object seen so far, or null.</summary>
    public TokenUsage? Usage { get; private set; }

    private static ReadOnlySpan<byte> Key => "\"usage\""u8;

    public void Observe(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        var i = 0;
        _phaseStart = 0;
        if (_state == State.Searching && _partialKey > 0)
        {
            i = KeyAcrossWrites(data);
        }

        while (i < data.Length)
        {
            i = _state switch
            {
                State.Searching => Search(data, i),
                State.AfterKey => AfterKey(data, i),
                State.AfterColon => AfterColon(data, i),
                _ => Capture(data, i),
            };
        }

        if (_state == State.Searching && _partialKey == 0)
        {
            RememberPartialKey(data);
        }

        _previousByte = data[^1];
    }

    /// <summary>Releases the capture buffer; the scanner sees nothing more.</summary>
    public void Complete()
    {
        StopCapturing();
        ResumeSearch(at: 0);
    }

    // Searching: the next real key "usage" (not an escaped \"usage\" inside a string) from i.
    private int Search(ReadOnlySpan<byte> data, int i)
    {
        while (i < data.Length)
        {
            var found = data[i..].IndexOf(Key);
            if (found < 0)
            {
                return data.Length;
            }

            var start = i + found;
            i = start + Key.Length;
            if ((start > 0 ? data[start - 1] : _previousByte) != (byte)'\\')
            {
                _state = State.AfterKey;
                return i;
            }
        }

        return i;
    }

    // The previous write ended with the first bytes of the key: does this one go on with the rest?
    private int KeyAcrossWrites(ReadOnlySpan<byte> data)
    {
        var rest = Key[_partialKey..];
        if (data.Length < rest.Length && rest.StartsWith(data))
        {
            _partialKey += data.Length; // still not whole: a write of a few bytes
            _phaseStart = data.Length;
            return data.Length;
        }

        var whole = data.StartsWith(rest);
        _partialKey = 0;
        if (!whole || _beforePartialKey == (byte)'\\')
        {
            return 0;
        }

        _state = State.AfterKey;
        return rest.Length;
    }

    private void ResumeSearch(int at)
    {
        _state = State.Searching;
        _partialKey = 0;
        _phaseStart = at;
    }

    // Whether the searched bytes end with the start of the key. Only the last quote can begin it: the key has no other
    // quote before its last byte.
    private void RememberPartialKey(ReadOnlySpan<byte> data)
    {
        var from = Math.Max(_phaseStart, data.Length - (Key.Length - 1));
        var quote = data[from..].LastIndexOf((byte)'"');
        if (quote < 0)
        {
            return;
        }

        var start = from + quote;
        if (Key.StartsWith(data[start..]))
        {
            _partialKey = data.Length - start;
            _beforePartialKey = start > 0 ? data[start - 1] : _previousByte;
        }
    }

    private int AfterKey(ReadOnlySpan<byte> data, int i)
    {
        i = SkipWhitespace(data, i);
        if (i < data.Length)
        {
            if (data[i] == (byte)':')
            {
                _state = State.AfterColon;
                return i + 1;
            }

            ResumeSearch(at: i);
        }

        return i;
    }

    private int AfterColon(ReadOnlySpan<byte> data, int i)
    {
        i = SkipWhitespace(data, i);
        if (i < data.Length)
        {
            if (data[i] != (byte)'{')
            {
                ResumeSearch(at: i); // "usage":null in every chunk but the last
                return i;
            }

            _state = State.Capturing;
            _depth = 0;
            _inString = false;
            _escaped = false;
            _capturedLength = 0;
        }

        return i;
    }

    // Capturing from the object's '{' (at i, or already copied): finds where it closes, then parses it.
    private int Capture(ReadOnlySpan<byte> data, int i)
    {
        var start = i;
        var end = FindObjectEnd(data, i);
        if (end < 0)
        {
            Keep(data[start..], data.Length);
            return data.Length;
        }

        if (_capturedLength == 0)
        {
            Record(UsageParser.Parse(data[start..(end + 1)])); // the usual case: the whole object in one write, no copy
        }
        else if (Keep(data[start..(end + 1)], end + 1))
        {
            Record(UsageParser.Parse(_captured.AsSpan(0, _capturedLength)));
        }

        StopCapturing();
        ResumeSearch(at: end + 1);
        return end + 1;
    }

    // The index of the '}' that closes the object, or -1 if it does not close in data.
    private int FindObjectEnd(ReadOnlySpan<byte> data, int i)
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

            var next = data[i..].IndexOfAny(Structural);
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
                    _depth++;
                    break;
                case (byte)'}':
                    if (--_depth == 0)
                    {
                        return i;
                    }

                    break;
            }

            i++;
        }

        return -1;
    }

    // Copies part of an object that spans writes; false (and the search resumes after it) once it outgrows
    // MaxUsageBytes.
    private bool Keep(ReadOnlySpan<byte> part, int end)
    {
        if (_capturedLength + part.Length > MaxUsageBytes)
        {
            StopCapturing();
            ResumeSearch(at: end);
            return false;
        }

        _captured ??= ArrayPool<byte>.Shared.Rent(MaxUsageBytes);
        part.CopyTo(_captured.AsSpan(_capturedLength));
        _capturedLength += part.Length;
        return true;
    }

    private void Record(TokenUsage? usage)
    {
        if (usage is not null)
        {
            Usage = usage;
        }
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

    private static int SkipWhitespace(ReadOnlySpan<byte> data, int i)
    {
        var skipped = data[i..].IndexOfAnyExcept(" \t\r\n"u8);
        return skipped < 0 ? data.Length : i + skipped;
    }
}

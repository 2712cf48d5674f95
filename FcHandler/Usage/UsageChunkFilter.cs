using System.Buffers;

namespace FcHandler.Usage;

/// <summary>
/// For a chat stream whose usage the proxy asked for (<c>CHAT_STREAM_USAGE=always</c>): passes every event on except
/// the extra last chunk the client did not ask for (<c>"choices":[],"usage":{...}</c>), which some clients cannot
/// handle (<c>chunk.choices[0]</c> on an empty list). Events are passed on whole: the end of a write that stops inside
/// an event is held until the event's blank line arrives, which no SSE client could have used earlier anyway. At most
/// <see cref="MaxHeldBytes"/> are held; an event longer than that (no usage chunk is) ends the filtering, and the rest
/// of the stream passes as it comes.
/// </summary>
internal sealed class UsageChunkFilter
{
    /// <summary>A chat chunk is a few hundred bytes; one event longer than this is never the usage chunk.</summary>
    public const int MaxHeldBytes = 64 * 1024;

    private byte[]? _held;
    private int _length;
    private bool _gaveUp;

    /// <summary>Whether the filter has removed the usage chunk.</summary>
    public bool RemovedUsageChunk { get; private set; }

    /// <summary>Writes what can be passed on of <paramref name="data"/>, and returns how many bytes that was.</summary>
    public async ValueTask<int> WriteAsync(Stream destination, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_gaveUp)
        {
            await destination.WriteAsync(data, cancellationToken).ConfigureAwait(false);
            return data.Length;
        }

        Hold(data.Span);
        var ready = KeepWholeEvents(out var rest);
        var written = 0;
        if (ready > 0)
        {
            await destination.WriteAsync(_held.AsMemory(0, ready), cancellationToken).ConfigureAwait(false);
            written = ready;
        }

        _held.AsSpan(rest, _length - rest).CopyTo(_held);
        _length -= rest;
        if (_length > MaxHeldBytes)
        {
            _gaveUp = true;
            written += await FlushAsync(destination, cancellationToken).ConfigureAwait(false);
        }

        return written;
    }

    /// <summary>Writes whatever is still held (a stream that ended without its last blank line), and releases the buffer.</summary>
    public async ValueTask<int> FlushAsync(Stream destination, CancellationToken cancellationToken)
    {
        var length = _length;
        if (length > 0)
        {
            await destination.WriteAsync(_held.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }

        Release();
        return length;
    }

    public void Release()
    {
        if (_held is not null)
        {
            ArrayPool<byte>.Shared.Return(_held);
            _held = null;
        }

        _length = 0;
    }

    private void Hold(ReadOnlySpan<byte> data)
    {
        if (_held is null || _held.Length < _length + data.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(4096, _length + data.Length));
            _held?.AsSpan(0, _length).CopyTo(larger);
            if (_held is not null)
            {
                ArrayPool<byte>.Shared.Return(_held);
            }

            _held = larger;
        }

        data.CopyTo(_held.AsSpan(_length));
        _length += data.Length;
    }

    // Moves the whole events to keep to the front of the buffer; returns their length, and in rest where the
    // unfinished event starts.
    private int KeepWholeEvents(out int rest)
    {
        var held = _held.AsSpan(0, _length);
        var kept = 0;
        rest = 0;
        while (EventLength(held[rest..]) is var length and > 0)
        {
            var current = held.Slice(rest, length);
            if (IsUsageChunk(current))
            {
                RemovedUsageChunk = true;
            }
            else
            {
                current.CopyTo(held[kept..]);
                kept += length;
            }

            rest += length;
        }

        return kept;
    }

    // The length of the first event, blank line included (LF LF, or CRLF CRLF); 0 if it is not complete yet. OpenAI
    // ends events with LF LF, so CRLF CRLF is looked for only before that end (one that starts before it ends by its
    // first LF), not through everything held after it: called once per event of a write, that would be quadratic.
    private static int EventLength(ReadOnlySpan<byte> data)
    {
        var lf = data.IndexOf("\n\n"u8);
        var crlf = data[..(lf < 0 ? data.Length : lf + 1)].IndexOf("\n\r\n"u8);
        return crlf >= 0 ? crlf + 3 : lf >= 0 ? lf + 2 : 0;
    }

    private static bool IsUsageChunk(ReadOnlySpan<byte> sseEvent)
        => sseEvent.IndexOf("\"usage\":{"u8) >= 0 && sseEvent.IndexOf("\"choices\":[]"u8) >= 0;
}

using Microsoft.AspNetCore.Http.Features;

namespace FcHandler.Proxy;

/// <summary>
/// Keeps a quiet event stream open: once an SSE response's status and headers are known (<see cref="Arm"/>), each
/// <c>SSE_HEARTBEAT</c> without a byte from the upstream it writes an SSE comment, <c>: keep-alive</c> and a blank line,
/// which every SSE parser ignores (WHATWG: a line starting with a colon is a comment; a blank line with no data
/// dispatches nothing). Reasoning models can be silent for over a minute before their first token, and whatever sits
/// between the client and FC with an idle timeout (a CDN, a corporate proxy, nginx's 60 s) would cut the stream.
/// <para>
/// It is the response body feature nearest Kestrel, beneath the access log's counter and the usage observer: its
/// comments are not counted in the access line's bytes and are never read as usage. It writes only between events
/// (what was relayed ends with a blank line), never into a compressed body, and its timer exists only while the
/// response is in flight, so FC can freeze an idle instance with none pending.
/// </para>
/// </summary>
internal sealed class SseHeartbeat : ResponseBodyWrapper
{
    private static readonly byte[] Comment = ": keep-alive\n\n"u8.ToArray();

    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private SemaphoreSlim _gate = null!; // made by Arm: only an armed stream needs it
    private ITimer? _timer;
    private long _lastWrite;
    private int _tail = '\n' << 8 | '\n'; // the last bytes relayed; nothing relayed counts as between events
    private bool _stopped;

    /// <param name="inner">Kestrel's response body.</param>
    /// <param name="interval">The longest silence before a comment; zero never writes one.</param>
    /// <param name="time">The clock.</param>
    public SseHeartbeat(IHttpResponseBodyFeature inner, TimeSpan interval, TimeProvider time)
        : base(inner)
    {
        _interval = interval;
        _time = time;
    }

    /// <summary>
    /// The upstream's status and headers for an uncompressed event stream have been copied to the response: from now
    /// on silence is filled. Called once, by the transformer; before it nothing is written, so an error keeps its status.
    /// </summary>
    public void Arm()
    {
        if (_interval <= TimeSpan.Zero || _timer is not null || _stopped)
        {
            return;
        }

        _gate = new SemaphoreSlim(1, 1);
        Volatile.Write(ref _lastWrite, _time.GetTimestamp());
        _timer = _time.CreateTimer(static state => _ = ((SseHeartbeat)state!).BeatAsync(), this, _interval, Timeout.InfiniteTimeSpan);
    }

    private async Task BeatAsync()
    {
        // A relayed write under way finishes first (it already counts as traffic: its time is taken as it starts).
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_stopped)
            {
                return;
            }

            var quiet = _time.GetElapsedTime(Volatile.Read(ref _lastWrite));
            if (quiet < _interval || !BetweenEvents())
            {
                Schedule(quiet < _interval ? _interval - quiet : _interval);
                return;
            }

            // Timed as it starts, like a relayed write, and the next beat scheduled before the comment can be read, so
            // the interval runs from the comment and not from whenever a slow client took it.
            Volatile.Write(ref _lastWrite, _time.GetTimestamp());
            Schedule(_interval);
            await Inner.Stream.WriteAsync(Comment).ConfigureAwait(false);
            await Inner.Stream.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            _stopped = true; // the client is gone, or the response is over: the relay reports it, not the heartbeat
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Schedule(TimeSpan due)
    {
        if (!_stopped)
        {
            _timer?.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    // A comment between two lines of one event would split it: only after a blank line (\n\n, \r\r or \r\n\r\n).
    private bool BetweenEvents()
        => (_tail & 0xFFFF) is ('\n' << 8 | '\n') or ('\r' << 8 | '\r') || _tail == ('\r' << 24 | '\n' << 16 | '\r' << 8 | '\n');

    /// <summary>The response is over: no comment after this, and the timer is gone before the request ends.</summary>
    public async Task StopAsync()
    {
        if (_timer is null)
        {
            _stopped = true;
            return;
        }

        await _gate.WaitAsync().ConfigureAwait(false);
        _stopped = true;
        await _timer.DisposeAsync().ConfigureAwait(false);
        _gate.Release();
    }

    public override async Task CompleteAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await base.CompleteAsync().ConfigureAwait(false);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => _timer is null ? Inner.Stream.WriteAsync(buffer, cancellationToken) : GatedWriteAsync(buffer, cancellationToken);

    // Only an armed stream pays for the gate: a comment and a relayed event must not interleave.
    private async ValueTask GatedWriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Relayed(buffer.Span); // when the upstream's bytes arrived, not when the client took them
            await Inner.Stream.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Relayed(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes.Length > 4 ? bytes[^4..] : bytes)
        {
            _tail = _tail << 8 | b;
        }

        Volatile.Write(ref _lastWrite, _time.GetTimestamp());
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        if (_timer is null)
        {
            Inner.Stream.Write(buffer, offset, count);
            return;
        }

        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _timer?.Dispose();
        }

        base.Dispose(disposing);
    }
}

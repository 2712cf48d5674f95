using System.Runtime.CompilerServices;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// The client's upgraded connection as <see cref="RelayFromClient"/> reads it when the proxy pings: the same bytes, less
/// the client's pongs to the proxy's pings (<see cref="OwnPongs"/>), so the upstream never gets an answer to a ping it
/// did not send. Looked at in place, in the reader's own buffer: only when a pong ends a read early are the bytes read
/// after it kept here for the next read.
/// </summary>
internal sealed class OwnPongReader(Stream client, byte[] pingPayload) : Stream
{
    private OwnPongs _pongs = new(pingPayload);
    private ReadOnlyMemory<byte> _released; // a pong that was not the proxy's, to pass first
    private byte[]? _unread; // read from the client after a pong, not yet looked at
    private int _unreadStart;
    private int _unreadLength;

    private bool Pending => !_released.IsEmpty || _unreadLength > 0;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return Pending ? new ValueTask<int>(0) : client.ReadAsync(buffer, cancellationToken); // a zero-byte read: data is ready
        }

        var pending = FromPending(buffer.Span);
        if (pending > 0)
        {
            return new ValueTask<int>(pending);
        }

        var reading = client.ReadAsync(buffer, cancellationToken);
        if (!reading.IsCompletedSuccessfully)
        {
            return ReadLaterAsync(reading, buffer, cancellationToken);
        }

        var read = reading.Result;
        var passed = read == 0 ? 0 : LookAt(buffer.Span, read);
        return passed > 0 || read == 0 ? new ValueTask<int>(passed) : ReadLaterAsync(client.ReadAsync(buffer, cancellationToken), buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // a silent client's reads wait: no allocation for each
    private async ValueTask<int> ReadLaterAsync(ValueTask<int> reading, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await reading.ConfigureAwait(false);
            if (read == 0)
            {
                return 0;
            }

            var passed = LookAt(buffer.Span, read);
            if (passed > 0)
            {
                return passed;
            }

            reading = client.ReadAsync(buffer, cancellationToken);
        }
    }

    /// <returns>How many bytes at the start of <paramref name="buffer"/> go on; 0 when the read held only the proxy's pongs.</returns>
    private int LookAt(Span<byte> buffer, int read)
    {
        var looked = _pongs.Next(buffer[..read], out var pass);
        if (looked < read)
        {
            Keep(buffer[looked..read]);
        }

        if (pass)
        {
            return looked;
        }

        _released = _pongs.Released;
        return FromPending(buffer);
    }

    // What is pending, into the buffer: a released pong first, then the bytes kept, looked at now.
    private int FromPending(Span<byte> buffer)
    {
        while (true)
        {
            if (!_released.IsEmpty)
            {
                var count = Math.Min(buffer.Length, _released.Length);
                _released.Span[..count].CopyTo(buffer);
                _released = _released[count..];
                return count;
            }

            if (_unreadLength == 0)
            {
                return 0;
            }

            var unread = _unread.AsSpan(_unreadStart, Math.Min(_unreadLength, buffer.Length));
            var looked = _pongs.Next(unread, out var pass);
            if (pass)
            {
                unread[..looked].CopyTo(buffer);
            }

            (_unreadStart, _unreadLength) = (_unreadStart + looked, _unreadLength - looked);
            if (pass)
            {
                return looked;
            }

            _released = _pongs.Released;
        }
    }

    private void Keep(ReadOnlySpan<byte> rest)
    {
        if (_unread is null || _unread.Length < rest.Length)
        {
            _unread = new byte[rest.Length];
        }

        rest.CopyTo(_unread);
        (_unreadStart, _unreadLength) = (0, rest.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // The relay only reads, asynchronously; writes go to the client's stream directly.
    public override bool CanRead => true;
    public override bool CanWrite => false;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Flush() => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

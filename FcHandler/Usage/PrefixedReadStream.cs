namespace FcHandler.Usage;

/// <summary>
/// A few bytes, then the rest of another stream: a request body with something inserted near its start, without copying
/// the body. Seekable when the rest is (a buffered body is), so a later step can read the body again from its start,
/// insert something of its own, and leave it rewound for forwarding.
/// </summary>
internal sealed class PrefixedReadStream(byte[] prefix, Stream rest) : ReadOnlyStream
{
    private readonly long _restStart = rest.CanSeek ? rest.Position : 0;
    private int _prefixRead;

    public override bool CanSeek => rest.CanSeek;

    public override long Length => prefix.Length + rest.Length - _restStart;

    public override long Position
    {
        get => _prefixRead < prefix.Length ? _prefixRead : prefix.Length + rest.Position - _restStart;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _prefixRead = (int)Math.Min(value, prefix.Length);
            rest.Position = _restStart + Math.Max(0, value - prefix.Length);
        }
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => Position + offset,
        _ => Length + offset,
    };

    public override int Read(Span<byte> buffer)
    {
        if (_prefixRead < prefix.Length)
        {
            return CopyPrefix(buffer);
        }

        return rest.Read(buffer);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => _prefixRead < prefix.Length ? ValueTask.FromResult(CopyPrefix(buffer.Span)) : rest.ReadAsync(buffer, cancellationToken);

    private int CopyPrefix(Span<byte> buffer)
    {
        var count = Math.Min(buffer.Length, prefix.Length - _prefixRead);
        prefix.AsSpan(_prefixRead, count).CopyTo(buffer);
        _prefixRead += count;
        return count;
    }
}

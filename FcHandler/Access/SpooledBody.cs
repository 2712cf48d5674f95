namespace FcHandler.Access;

/// <summary>
/// A request body in a temporary file, holding its share of <see cref="TempStorage"/>: every write reserves before
/// it writes, so the budget is never overdrawn, and disposing deletes the file and returns the share. The share can be
/// taken before the file exists (a declared length, refused at once if it does not fit); the file is created by the
/// first write, so a client that is slow to send its body costs neither a file nor a descriptor before it has sent
/// enough to need one. File system errors (no space left, an I/O error, a directory that has gone) surface as the
/// exceptions they are, for the caller to answer as the proxy's own failure, never as the client's.
/// </summary>
internal sealed class SpooledBody : IDisposable
{
    private const string FilePrefix = "fchandler-body-";

    private readonly TempStorage _storage;
    private FileStream? _file;
    private long _reserved;
    private bool _disposed;

    private SpooledBody(TempStorage storage, long reserved)
    {
        _storage = storage;
        _reserved = reserved;
    }

    /// <summary>The file, positioned where the next write goes; rewound once the body is whole. Exists after the first write.</summary>
    public Stream Stream => _file ?? throw new InvalidOperationException("Nothing has been written to the spooled body yet.");

    /// <summary>Bytes written so far.</summary>
    public long Length => _file?.Position ?? 0;

    /// <summary>Reserves <paramref name="reserve"/> bytes for a new spool; null when the reservation does not fit.</summary>
    public static SpooledBody? TryReserve(TempStorage storage, long reserve)
        => storage.TryReserve(reserve) ? new SpooledBody(storage, reserve) : null;

    /// <summary>Appends <paramref name="data"/>; false, with nothing written, when the budget has no room for it.</summary>
    /// <exception cref="IOException">The file could not be created or written.</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable.</exception>
    public async ValueTask<bool> TryAppendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var needed = Length + data.Length - _reserved;
        if (needed > 0)
        {
            if (!_storage.TryReserve(needed))
            {
                return false;
            }

            _reserved += needed;
        }

        // No FileStream buffer (bufferSize 0): each write goes straight to the file, so a failure is seen where it
        // happens and closing the file never flushes (and fails) again. DeleteOnClose unlinks it on dispose.
        _file ??= new FileStream(
            Path.Combine(_storage.Directory, FilePrefix + Path.GetRandomFileName()),
            FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        await _file.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _file?.Dispose();
        _storage.Release(_reserved);
    }
}

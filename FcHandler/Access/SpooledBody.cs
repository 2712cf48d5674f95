namespace FcHandler.Access;

/// <summary>
/// A request body in a temporary file, holding its share of <see cref="TempStorage"/>: every write reserves before
/// it writes, so the budget is never overdrawn, and disposing deletes the file and returns the share. File system
/// errors (no space left, an I/O error, a directory that has gone) surface as the exceptions they are, for the caller
/// to answer as the proxy's own failure, never as the client's.
/// </summary>
internal sealed class SpooledBody : IDisposable
{
    private const string FilePrefix = "fchandler-body-";

    private readonly TempStorage _storage;
    private readonly FileStream _file;
    private long _reserved;
    private bool _disposed;

    private SpooledBody(TempStorage storage, FileStream file, long reserved)
    {
        _storage = storage;
        _file = file;
        _reserved = reserved;
    }

    /// <summary>The file, positioned where the next write goes; rewound once the body is whole.</summary>
    public Stream Stream => _file;

    /// <summary>Reserves <paramref name="reserve"/> bytes and creates the file; null when the reservation does not fit.</summary>
    /// <exception cref="IOException">The file could not be created (the reservation is returned).</exception>
    /// <exception cref="UnauthorizedAccessException">The directory is not writable (the reservation is returned).</exception>
    public static SpooledBody? TryCreate(TempStorage storage, long reserve)
    {
        if (!storage.TryReserve(reserve))
        {
            return null;
        }

        try
        {
            // No FileStream buffer (bufferSize 0): each write goes straight to the file, so a failure is seen where it
            // happens and closing the file never flushes (and fails) again. DeleteOnClose unlinks it on dispose.
            var file = new FileStream(
                Path.Combine(storage.Directory, FilePrefix + Path.GetRandomFileName()),
                FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize: 0,
                FileOptions.Asynchronous | FileOptions.DeleteOnClose);
            return new SpooledBody(storage, file, reserve);
        }
        catch
        {
            storage.Release(reserve);
            throw;
        }
    }

    /// <summary>Appends <paramref name="data"/>; false, with nothing written, when the budget has no room for it.</summary>
    public async ValueTask<bool> TryAppendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var needed = _file.Position + data.Length - _reserved;
        if (needed > 0)
        {
            if (!_storage.TryReserve(needed))
            {
                return false;
            }

            _reserved += needed;
        }

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
        _file.Dispose();
        _storage.Release(_reserved);
    }
}

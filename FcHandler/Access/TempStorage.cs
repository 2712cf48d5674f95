namespace FcHandler.Access;

/// <summary>
/// The temporary storage that spooled request bodies share: a directory and a budget of bytes. Every body that goes to
/// a file reserves its size here first (a declared length up front, a chunked body as it grows) and returns it when
/// the file is deleted, so concurrent uploads cannot fill FC's <c>/tmp</c> (512 MB by default, shared by up to
/// <c>instanceConcurrency</c> requests) and fail each other halfway.
/// </summary>
internal sealed class TempStorage(string directory, long budgetBytes)
{
    private long _reserved;

    /// <summary>Where spooled bodies are written (<c>TEMP_STORAGE_DIR</c>).</summary>
    public string Directory { get; } = directory;

    /// <summary>The most all spooled bodies together may take (<c>TEMP_STORAGE_MB</c>).</summary>
    public long BudgetBytes { get; } = budgetBytes;

    /// <summary>Bytes reserved by the bodies being received or forwarded right now.</summary>
    public long ReservedBytes => Volatile.Read(ref _reserved);

    /// <summary>Reserves <paramref name="bytes"/>, or nothing and false when they do not fit in what is left.</summary>
    public bool TryReserve(long bytes)
    {
        var reserved = Volatile.Read(ref _reserved);
        while (true)
        {
            if (bytes > BudgetBytes - reserved)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _reserved, reserved + bytes, reserved);
            if (seen == reserved)
            {
                return true;
            }

            reserved = seen;
        }
    }

    public void Release(long bytes) => Interlocked.Add(ref _reserved, -bytes);
}

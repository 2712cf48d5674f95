namespace FcHandler.Access;

/// <summary>A scan of a JSON body fed in buffers (Utf8JsonReader cannot cross an await), by <see cref="ModelReader.ScanAsync"/>.</summary>
internal interface IJsonChunkScan
{
    /// <summary>The scan needs no more of the body.</summary>
    bool IsDone { get; }

    /// <summary>Reads what it can of <paramref name="data"/> and returns how many bytes it consumed.</summary>
    int Advance(ReadOnlySpan<byte> data, bool final);
}

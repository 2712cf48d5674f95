using System.Buffers;
using System.IO.Compression;

namespace FcHandler.Usage;

/// <summary>Receives decoded bytes; they are only valid during the call.</summary>
internal delegate void DecodedBytes(ReadOnlySpan<byte> decoded);

/// <summary>
/// Decodes a side copy of a compressed response body as it passes, for the usage scan only: the client receives the
/// body exactly as the upstream encoded it. OpenAI compresses JSON answers when the client accepts it (the official
/// SDKs send <c>Accept-Encoding: gzip, deflate</c>, and <c>br</c> when brotli is installed), so without this most
/// non-streamed calls would go unaccounted. The decoded bytes pass through one small buffer and are dropped;
/// decoding stops after <see cref="MaxDecodedBytes"/>. Measured on this repository's 2-core machine
/// (UsageBenchmarks): 3 to 5 us for a 1 KB chat answer, decoder included, where plain JSON costs 1 to 2 us; for large
/// answers gzip decodes at about 300 MB/s and brotli at about 70 MB/s, 10 to 50 times what relaying the compressed
/// bytes costs, hence the limit.
/// </summary>
internal abstract class BodyDecoder : IDisposable
{
    /// <summary>
    /// The most bytes decoded per response: 1 MB, at most about 15 ms of one core (brotli). A chat or Responses answer
    /// is a few kilobytes to tens of kilobytes; an embeddings answer for a hundred inputs (base64, as the Python SDK
    /// asks) is about 1 MB, and an image as base64 more. Their usage comes last, so beyond this it is not recorded.
    /// </summary>
    public const long MaxDecodedBytes = 1024 * 1024;

    private const int OutputBytes = 4096;

    private DecodedBytes _sink = null!;
    private byte[]? _output = ArrayPool<byte>.Shared.Rent(OutputBytes);
    private long _decoded;

    /// <summary>
    /// A decoder for a <c>Content-Encoding</c> value that hands what it decodes to <paramref name="sink"/>, or null for
    /// an encoding this proxy cannot decode (zstd, a chain of encodings).
    /// </summary>
    public static BodyDecoder? For(string contentEncoding, DecodedBytes sink)
    {
        var decoder = Factory(contentEncoding)?.Invoke();
        decoder?._sink = sink;
        return decoder;
    }

    /// <summary>Whether <see cref="For"/> has a decoder for this <c>Content-Encoding</c>.</summary>
    public static bool CanDecode(string contentEncoding) => Factory(contentEncoding) is not null;

    // The one list of the encodings decoded, and how.
    private static Func<BodyDecoder>? Factory(string contentEncoding) => contentEncoding.Trim().ToLowerInvariant() switch
    {
        "gzip" or "x-gzip" => static () => new StreamDecoder(static feed => new GZipStream(feed, CompressionMode.Decompress)),
        "deflate" => static () => new StreamDecoder(static feed => new ZLibStream(feed, CompressionMode.Decompress)), // RFC 9110 8.4.1.2
        "br" => static () => new BrotliBodyDecoder(),
        _ => null,
    };

    /// <summary>Decodes <paramref name="input"/>; false once the body cannot or need not be decoded further.</summary>
    public bool Decode(ReadOnlyMemory<byte> input)
    {
        if (_output is null)
        {
            return false;
        }

        try
        {
            return DecodeCore(input, _output);
        }
        catch (InvalidDataException)
        {
            return false; // not what the header said: the client will find out; the proxy only loses the usage
        }
    }

    public void Dispose()
    {
        DisposeCore();
        if (_output is not null)
        {
            ArrayPool<byte>.Shared.Return(_output);
            _output = null;
        }
    }

    /// <summary>Decodes all of <paramref name="input"/> through <paramref name="buffer"/>, handing each piece to <see cref="Emit"/>.</summary>
    protected abstract bool DecodeCore(ReadOnlyMemory<byte> input, byte[] buffer);

    /// <summary>Passes decoded bytes on; false once <see cref="MaxDecodedBytes"/> have been decoded.</summary>
    protected bool Emit(ReadOnlySpan<byte> decoded)
    {
        _decoded += decoded.Length;
        _sink(decoded);
        return _decoded < MaxDecodedBytes;
    }

    protected abstract void DisposeCore();

    /// <summary>gzip and deflate: .NET decodes them only as streams, so the input is fed through one.</summary>
    private sealed class StreamDecoder(Func<Stream, Stream> create) : BodyDecoder
    {
        private readonly FeedStream _feed = new();
        private Stream? _decoder;

        protected override bool DecodeCore(ReadOnlyMemory<byte> input, byte[] buffer)
        {
            _decoder ??= create(_feed);
            _feed.Input = input;
            int read;
            while ((read = _decoder.Read(buffer)) > 0)
            {
                if (!Emit(buffer.AsSpan(0, read)))
                {
                    return false;
                }
            }

            return true;
        }

        protected override void DisposeCore() => _decoder?.Dispose();
    }

    private sealed class BrotliBodyDecoder : BodyDecoder
    {
        private BrotliDecoder _decoder;

        protected override bool DecodeCore(ReadOnlyMemory<byte> input, byte[] buffer)
        {
            var source = input.Span;
            while (true)
            {
                var status = _decoder.Decompress(source, buffer, out var consumed, out var written);
                source = source[consumed..];
                if (written > 0 && !Emit(buffer.AsSpan(0, written)))
                {
                    return false;
                }

                switch (status)
                {
                    case OperationStatus.DestinationTooSmall:
                        continue;
                    case OperationStatus.NeedMoreData:
                        return true;
                    case OperationStatus.Done:
                        return false;
                    default:
                        throw new InvalidDataException("Invalid brotli data.");
                }
            }
        }

        protected override void DisposeCore() => _decoder.Dispose();
    }

    /// <summary>The read side of a stream decoder: hands over the current input, then reports "nothing yet".</summary>
    private sealed class FeedStream : ReadOnlyStream
    {
        public ReadOnlyMemory<byte> Input { get; set; }

        public override int Read(Span<byte> buffer)
        {
            var count = Math.Min(buffer.Length, Input.Length);
            Input.Span[..count].CopyTo(buffer);
            Input = Input[count..];
            return count;
        }
    }
}

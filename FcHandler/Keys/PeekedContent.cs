using System.Net;
using FcHandler.Usage;

namespace FcHandler.Keys;

/// <summary>
/// A response body whose start was read to judge the answer, given back whole: the bytes read, then the rest of the
/// upstream's stream, never buffered (YARP reads it through <see cref="CreateContentReadStreamAsync(CancellationToken)"/>).
/// Disposing it disposes the upstream's content.
/// </summary>
internal sealed class PeekedContent : HttpContent
{
    private readonly byte[] _start;
    private readonly Stream _rest;
    private readonly HttpContent _original;

    public PeekedContent(byte[] start, Stream rest, HttpContent original)
    {
        _start = start;
        _rest = rest;
        _original = original;
        foreach (var (name, values) in original.Headers.NonValidated)
        {
            Headers.TryAddWithoutValidation(name, values);
        }
    }

    protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken)
        => Task.FromResult<Stream>(new PrefixedReadStream(_start, _rest));

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(_start, cancellationToken).ConfigureAwait(false);
        await _rest.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _rest.Dispose();
            _original.Dispose();
        }

        base.Dispose(disposing);
    }
}

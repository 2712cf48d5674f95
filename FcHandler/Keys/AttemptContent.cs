using System.Net;

namespace FcHandler.Keys;

/// <summary>
/// The request body of one attempt. The first wraps YARP's own content, so the body is copied exactly as YARP copies it
/// (its timeouts and error reports), and tells when that copy has ended: a second attempt must not read the body while
/// the first may still be sending it. Each later attempt reads the buffered body again from its start.
/// </summary>
internal sealed class AttemptContent : HttpContent
{
    private readonly HttpContent? _inner;
    private readonly Stream? _body;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AttemptContent(HttpContent headersFrom, HttpContent? inner, Stream? body)
    {
        _inner = inner;
        _body = body;
        foreach (var (name, values) in headersFrom.Headers.NonValidated)
        {
            Headers.TryAddWithoutValidation(name, values);
        }
    }

    /// <summary>The first attempt: YARP's content, watched.</summary>
    public static AttemptContent First(HttpContent yarps) => new(yarps, yarps, null);

    /// <summary>A later attempt: the buffered body, from its start, with the first attempt's content headers.</summary>
    public static AttemptContent Again(HttpContent first, Stream body) => new(first, null, body);

    private bool Started { get; set; }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        Started = true;
        try
        {
            if (_inner is not null)
            {
                await _inner.CopyToAsync(stream, context, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                _body!.Position = 0;
                await _body.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _ended.TrySetResult();
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    /// <summary>Waits for the copy to end, if it started; it ends soon once its upstream request is gone.</summary>
    public Task WhenDoneAsync() => Started ? _ended.Task : Task.CompletedTask;
}

using FcHandler.Proxy;

namespace FcHandler.Usage;

/// <summary>
/// What the proxy learns from one upstream response body as it passes: the usage OpenAI reported (successful
/// answers to generation requests) and the error code of an error answer. It reads a side copy (decoded when the
/// body is compressed) and never changes what the client receives, except that a <see cref="Filter"/>, when the proxy
/// itself asked for a chat stream's usage, holds back the extra chunk that carries it.
/// </summary>
internal sealed class ResponseObserver
{
    private readonly UsageScanner? _usage;
    private readonly ErrorBodyCapture? _error;
    private readonly BodyDecoder? _decoder;
    private bool _stopped;

    private ResponseObserver(bool readUsage, bool eventStream, bool readError, string? contentEncoding, bool filter)
    {
        _usage = readUsage ? new UsageScanner(UsagePlaces.Answers, eventStream) : null;
        _error = readError ? new ErrorBodyCapture() : null;
        _decoder = contentEncoding is null ? null : BodyDecoder.For(contentEncoding, Consume);
        Filter = filter ? new UsageChunkFilter() : null;
    }

    /// <summary>Removes the usage chunk the client did not ask for; null unless the proxy asked for it.</summary>
    public UsageChunkFilter? Filter { get; }

    /// <summary>
    /// An observer for a response, or null when there is nothing to learn from it.
    /// </summary>
    /// <param name="readUsage">Whether the request could produce billed usage (a generation request that was not a read).</param>
    /// <param name="status">The upstream's status: usage comes with 2xx answers, error codes with 4xx and 5xx.</param>
    /// <param name="contentType">The media type, parameters allowed: usage is read from JSON and event streams only, never from audio or images.</param>
    /// <param name="contentEncoding">A compressed body is decoded on the side, except an event stream (see docs/logs-and-usage.md).</param>
    /// <param name="usageRequestedByProxy">The proxy added <c>stream_options.include_usage</c> to this request.</param>
    public static ResponseObserver? For(bool readUsage, int status, string? contentType, string? contentEncoding, bool usageRequestedByProxy)
    {
        var eventStream = IsMediaType(contentType, "text/event-stream");
        readUsage &= status is >= 200 and < 300 && (eventStream || IsJson(contentType));
        var readError = status >= 400;
        if (string.IsNullOrWhiteSpace(contentEncoding) || contentEncoding.Trim().Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            contentEncoding = null;
        }
        else if (eventStream || !BodyDecoder.CanDecode(contentEncoding))
        {
            // A compressed stream would need a decoder alive (and for brotli, a window of up to 16 MB) as long as the
            // stream: OpenAI compresses JSON answers, not event streams. zstd or a chain of encodings: not read.
            return null;
        }

        return readUsage || readError
            ? new ResponseObserver(readUsage, eventStream, readError, contentEncoding, readUsage && usageRequestedByProxy && eventStream && contentEncoding is null)
            : null;
    }

    /// <summary>Sees bytes as they are written to the client.</summary>
    public void Observe(ReadOnlyMemory<byte> data)
    {
        if (_stopped)
        {
            return;
        }

        if (_decoder is null)
        {
            Consume(data.Span);
        }
        else if (!_decoder.Decode(data))
        {
            _stopped = true;
        }
    }

    /// <summary>
    /// What the body said, once it is complete; releases every buffer. <c>UsageUnreadable</c>: a usage place held
    /// something that is not one clear count (<see cref="UsageScanner.Unreadable"/>).
    /// </summary>
    public (TokenUsage? Usage, bool UsageUnreadable, string? ErrorCode) Complete()
    {
        _stopped = true;
        _decoder?.Dispose();
        _usage?.Complete();
        Filter?.Release();
        return (_usage?.Usage, _usage?.Unreadable == true, _error?.Complete());
    }

    private void Consume(ReadOnlySpan<byte> data)
    {
        _usage?.Observe(data);
        _error?.Observe(data);
    }

    private static bool IsJson(string? contentType)
        => string.IsNullOrEmpty(contentType) || MediaTypes.IsJson(MediaTypes.Of(contentType));

    private static bool IsMediaType(string? contentType, string mediaType)
        => contentType is not null && MediaTypes.Of(contentType).Equals(mediaType, StringComparison.OrdinalIgnoreCase);
}

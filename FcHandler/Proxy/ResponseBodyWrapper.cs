using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace FcHandler.Proxy;

/// <summary>
/// A response body feature that wraps the one beneath it (Kestrel's, or another wrapper) and sees every write as a
/// stream: wrapping the feature rather than the stream lets <see cref="DisableBuffering"/> (which YARP calls for
/// streaming) and the start/complete calls reach Kestrel. Subclasses decide what a write does.
/// </summary>
internal abstract class ResponseBodyWrapper(IHttpResponseBodyFeature inner) : Stream, IHttpResponseBodyFeature
{
    private PipeWriter? _writer;

    /// <summary>The feature beneath this one.</summary>
    protected IHttpResponseBodyFeature Inner { get; } = inner;

    Stream IHttpResponseBodyFeature.Stream => this;

    public PipeWriter Writer => _writer ??= PipeWriter.Create(this, new StreamPipeWriterOptions(leaveOpen: true));

    public void DisableBuffering() => Inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => Inner.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
        => SendFileFallback.SendFileAsync(this, path, offset, count, cancellationToken);

    public virtual async Task CompleteAsync()
    {
        if (_writer is not null)
        {
            await _writer.CompleteAsync().ConfigureAwait(false);
        }

        await Inner.CompleteAsync().ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush() => Inner.Stream.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => Inner.Stream.FlushAsync(cancellationToken);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

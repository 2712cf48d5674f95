using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace FcHandler.Fc.Events;

/// <summary>
/// The response side of an event invocation: collects status, headers and body in memory (FC event functions
/// return the whole response at once), and runs OnStarting/OnCompleted callbacks as Kestrel would, so CORS and
/// everything else behave exactly as for an HTTP request.
/// </summary>
internal sealed class EventResponseFeature : Stream, IHttpResponseFeature, IHttpResponseBodyFeature
{
    private readonly MemoryStream _body = new();
    private readonly Stack<(Func<object, Task> Callback, object State)> _onStarting = new();
    private readonly Stack<(Func<object, Task> Callback, object State)> _onCompleted = new();
    private PipeWriter? _writer;

    public int StatusCode { get; set; } = StatusCodes.Status200OK;

    public string? ReasonPhrase { get; set; }

    public IHeaderDictionary Headers { get; set; } = new HeaderDictionary();

    public Stream Body { get => this; set => throw new NotSupportedException(); }

    public bool HasStarted { get; private set; }

    public ReadOnlyMemory<byte> BodyBytes => _body.GetBuffer().AsMemory(0, (int)_body.Length);

    Stream IHttpResponseBodyFeature.Stream => this;

    public PipeWriter Writer => _writer ??= PipeWriter.Create(this, new StreamPipeWriterOptions(leaveOpen: true));

    public void OnStarting(Func<object, Task> callback, object state) => _onStarting.Push((callback, state));

    public void OnCompleted(Func<object, Task> callback, object state) => _onCompleted.Push((callback, state));

    public void DisableBuffering()
    {
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (HasStarted)
        {
            return;
        }

        while (_onStarting.TryPop(out var starting))
        {
            await starting.Callback(starting.State).ConfigureAwait(false);
        }

        HasStarted = true;
    }

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
        => SendFileFallback.SendFileAsync(this, path, offset, count, cancellationToken);

    public async Task CompleteAsync()
    {
        if (_writer is not null)
        {
            await _writer.FlushAsync().ConfigureAwait(false);
        }

        await StartAsync().ConfigureAwait(false);
        while (_onCompleted.TryPop(out var completed))
        {
            await completed.Callback(completed.State).ConfigureAwait(false);
        }
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _body.Length;
    public override long Position { get => _body.Length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count)
    {
        StartAsync().GetAwaiter().GetResult();
        _body.Write(buffer, offset, count);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        _body.Write(buffer.Span);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => StartAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _body.Dispose();
        }

        base.Dispose(disposing);
    }
}

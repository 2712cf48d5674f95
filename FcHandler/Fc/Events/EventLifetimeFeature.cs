using Microsoft.AspNetCore.Http.Features;

namespace FcHandler.Fc.Events;

/// <summary>
/// Request lifetime of an event invocation: canceled when FC's own call goes away, and records an abort (what the
/// forwarder does when the upstream breaks off mid-response) so the event can report the failure.
/// </summary>
internal sealed class EventLifetimeFeature : IHttpRequestLifetimeFeature, IDisposable
{
    private readonly CancellationTokenSource _aborted;

    public EventLifetimeFeature(CancellationToken outer)
    {
        _aborted = CancellationTokenSource.CreateLinkedTokenSource(outer);
        RequestAborted = _aborted.Token;
    }

    public CancellationToken RequestAborted { get; set; }

    public bool WasAborted { get; private set; }

    public void Abort()
    {
        WasAborted = true;
        _aborted.Cancel();
    }

    public void Dispose() => _aborted.Dispose();
}

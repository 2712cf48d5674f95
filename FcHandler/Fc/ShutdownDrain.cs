using FcHandler.Logging;
using FcHandler.Proxy.WebSockets;

namespace FcHandler.Fc;

/// <summary>
/// Stopping the process (SIGTERM, which FC sends to stop an instance, or Ctrl+C) drains exactly as FC's pre-stop hook
/// does (<see cref="InstanceDrain"/>): new requests get 503 <c>shutting_down</c>, running streams get up to
/// <c>PRE_STOP_TIMEOUT</c> to finish, WebSockets still open are then closed with 1001, and only then does Kestrel stop.
/// It runs before any hosted service stops, so the server keeps serving the streams meanwhile; the host's shutdown
/// timeout is set to <c>PRE_STOP_TIMEOUT</c> plus the WebSockets' close wait, so what is still running then is cut and
/// the process exits 0 within it. Without this, Kestrel would stop listening and close idle connections at once, so FC's
/// gateway would meet refusals and resets instead of an answer, and streams would be cut at the host's default 30 s.
/// </summary>
internal sealed class ShutdownDrain(
    InFlightRequests inFlight,
    WebSocketSessions webSockets,
    FcOptions options,
    ILogger<ShutdownDrain> logger) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        ProxyLog.StopDraining(logger, inFlight.StopAdmitting(), options.PreStopTimeout.TotalSeconds);
        int remaining;
        try
        {
            remaining = await InstanceDrain.RunAsync(
                inFlight, webSockets, options.PreStopTimeout, count => ProxyLog.StopClosingWebSockets(logger, count), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            remaining = inFlight.Count; // the host's shutdown timeout came first
        }

        ProxyLog.StopDrained(logger, remaining);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

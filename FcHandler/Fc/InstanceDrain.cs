using FcHandler.Proxy.WebSockets;

namespace FcHandler.Fc;

/// <summary>
/// How the instance stops, alike for FC's pre-stop hook and for SIGTERM: running requests get up to the timeout; then
/// the WebSockets still open (a Realtime session runs for as long as its user talks) are closed with 1001, going away,
/// which tells clients to reconnect, and their close handshakes get a moment.
/// </summary>
internal static class InstanceDrain
{
    /// <param name="inFlight">The requests in progress; new ones are refused from the call on.</param>
    /// <param name="webSockets">The open WebSockets.</param>
    /// <param name="timeout">How long running requests get (<c>PRE_STOP_TIMEOUT</c>).</param>
    /// <param name="closingWebSockets">Told how many WebSockets are being closed, when there are any.</param>
    /// <param name="cancellationToken">Ends the wait early.</param>
    /// <returns>The number of requests still running at the end.</returns>
    public static async Task<int> RunAsync(
        InFlightRequests inFlight,
        WebSocketSessions webSockets,
        TimeSpan timeout,
        Action<int> closingWebSockets,
        CancellationToken cancellationToken)
    {
        var remaining = await inFlight.DrainAsync(timeout, cancellationToken).ConfigureAwait(false);
        if (remaining > 0 && webSockets.Count > 0)
        {
            closingWebSockets(webSockets.CloseAll());
            remaining = await inFlight.DrainAsync(WebSocketSessions.CloseWait, cancellationToken).ConfigureAwait(false);
        }

        return remaining;
    }
}

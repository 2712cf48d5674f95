using System.Net.Sockets;
using System.Text;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// Sends bytes no well-behaved HTTP client would send (absolute-form targets, raw dot-segments, smuggling attempts)
/// over a plain socket, and reads whatever comes back until the server closes the connection.
/// </summary>
public static class RawHttp
{
    public static async Task<string> SendAsync(Uri server, string request, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));

        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);

        using var response = new MemoryStream();
        await stream.CopyToAsync(response, timeout.Token);
        return Encoding.UTF8.GetString(response.ToArray());
    }

    /// <summary>
    /// Writes with <paramref name="write"/> while reading the answer, for requests the server may answer before they
    /// are complete (413 on a declared length, a stalled body): write failures after the server has closed are
    /// expected and ignored, and the answer is whatever arrived before the connection closed.
    /// </summary>
    public static async Task<string> ExchangeAsync(Uri server, Func<Stream, CancellationToken, Task> write)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = client.GetStream();
        var writing = WriteIgnoringCloseAsync(stream, write, timeout.Token);

        using var response = new MemoryStream();
        try
        {
            await stream.CopyToAsync(response, timeout.Token);
        }
        catch (IOException)
        {
            // Reset after the answer (the server closed with unread request bytes): keep what arrived.
        }

        await timeout.CancelAsync();
        await writing;
        return Encoding.UTF8.GetString(response.ToArray());
    }

    private static async Task WriteIgnoringCloseAsync(Stream stream, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        try
        {
            await write(stream, cancellationToken);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    public static int StatusOf(string response)
    {
        Assert.StartsWith("HTTP/1.1 ", response, StringComparison.Ordinal);
        return int.Parse(response.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
    }
}

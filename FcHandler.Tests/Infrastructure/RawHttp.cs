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

    public static int StatusOf(string response)
    {
        Assert.StartsWith("HTTP/1.1 ", response, StringComparison.Ordinal);
        return int.Parse(response.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
    }
}

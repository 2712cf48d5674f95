using System.Globalization;
using System.Net;

namespace FcHandler.Hosting;

/// <summary>Where Kestrel listens: an address (null = loopback, IPv4 and IPv6) and a port.</summary>
internal sealed record ListenEndpoint(IPAddress? Address, int Port)
{
    public const int DefaultPort = 9000;

    /// <summary>
    /// Port: <c>FC_CUSTOM_LISTEN_PORT</c>, else <c>FC_SERVER_PORT</c> (FC's local emulator), else 9000.
    /// Address: <c>LISTEN_HOST</c>; by default every interface inside FC, because FC reaches the function over its
    /// network and a loopback-only server fails with "FunctionNotStarted ... connection refused"
    /// (https://help.aliyun.com/document_detail/2513503.html), and loopback elsewhere, so a laptop run is not an
    /// open proxy on the LAN.
    /// </summary>
    public static ListenEndpoint Read(IConfiguration configuration)
    {
        var port = ReadPort(configuration, ConfigKeys.SetByFc.CustomListenPort)
            ?? ReadPort(configuration, ConfigKeys.SetByFc.ServerPort)
            ?? DefaultPort;

        var host = configuration[ConfigKeys.ListenHost];
        if (string.IsNullOrWhiteSpace(host))
        {
            var inFc = !string.IsNullOrEmpty(configuration[ConfigKeys.SetByFc.FunctionName]);
            return new ListenEndpoint(inFc ? IPAddress.Any : null, port);
        }

        host = host.Trim();
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new ListenEndpoint(null, port);
        }

        if (!IPAddress.TryParse(host.Trim('[', ']'), out var address))
        {
            throw new ConfigurationException(
                $"{ConfigKeys.ListenHost} must be an IP address such as 0.0.0.0, 127.0.0.1 or ::, or localhost; got '{host}'.");
        }

        return new ListenEndpoint(address, port);
    }

    private static int? ReadPort(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        // Port 0 asks the OS for a free port: the tests use it.
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > IPEndPoint.MaxPort)
        {
            throw new ConfigurationException($"{key} must be a TCP port number from 0 to 65535; got '{value}'.");
        }

        return port;
    }

    public override string ToString() => Address switch
    {
        null => $"http://localhost:{Port}",
        { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } => $"http://[{Address}]:{Port}",
        _ => $"http://{Address}:{Port}",
    };
}

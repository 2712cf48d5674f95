using System.Net;
using System.Net.Sockets;
using FcHandler.Proxy;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// Where the proxy's connections to the upstream go, set by the test: an endpoint, or none (the name does not
/// resolve). Lets a test break the upstream and bring it back without depending on the machine's resolver, and counts
/// the connection attempts.
/// </summary>
public sealed class SwitchableResolver
{
    private EndPoint? _target;
    private int _lookups;

    /// <summary>The endpoint new connections go to; null makes the lookup fail as an unknown host does.</summary>
    public EndPoint? Target
    {
        get => Volatile.Read(ref _target);
        set => Volatile.Write(ref _target, value);
    }

    /// <summary>Connection attempts so far (one lookup each).</summary>
    public int Lookups => Volatile.Read(ref _lookups);

    /// <summary>Called before each lookup; lets a test change the target between attempts.</summary>
    public Action<int>? OnLookup { get; set; }

    public static EndPoint Loopback(int port) => new IPEndPoint(IPAddress.Loopback, port);

    public void AddTo(IServiceCollection services) => services.AddSingleton(new UpstreamResolver(ResolveAsync));

    private ValueTask<EndPoint> ResolveAsync(DnsEndPoint name, CancellationToken cancellationToken)
    {
        var attempt = Interlocked.Increment(ref _lookups);
        OnLookup?.Invoke(attempt);
        return Target is { } target
            ? ValueTask.FromResult(target)
            : ValueTask.FromException<EndPoint>(new SocketException((int)SocketError.HostNotFound));
    }
}

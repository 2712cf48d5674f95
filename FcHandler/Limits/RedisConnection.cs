using System.Net.Security;
using FcHandler.Proxy;
using StackExchange.Redis;

namespace FcHandler.Limits;

/// <summary>
/// The instance's one connection to the shared store (StackExchange.Redis multiplexes every command over it). It starts
/// connecting when it is made, and keeps reconnecting by itself whenever the store drops it; commands sent meanwhile
/// wait for the new connection (the library's backlog) within the store timeout. <see cref="GuardedLimitStore"/>
/// bounds every wait, so a store that is down costs a request at most that timeout, never a hang.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    /// <summary>Connecting (DNS, TCP, TLS, AUTH) may take this long: in FC's initializer, or behind the first request without one.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long the library waits before each new attempt after losing the store: a second, so a store that is back is used again within about one.</summary>
    public static readonly TimeSpan ReconnectEvery = TimeSpan.FromSeconds(1);

    private readonly Task<ConnectionMultiplexer> _connecting;

    public RedisConnection(RedisStoreAddress address, TimeSpan commandTimeout, TrustAnchors? trust, Action<ConnectionFailureType, string>? failed = null)
    {
        Address = address;
        var options = new ConfigurationOptions
        {
            EndPoints = { { address.Host, address.Port } },
            User = address.User,
            Password = address.Password,
            DefaultDatabase = address.Database,
            Ssl = address.Tls,
            SslHost = address.Tls ? address.Host : null,
            ClientName = "fchandler",
            AbortOnConnectFail = false, // start even when the store is down, and keep trying
            ConnectTimeout = (int)ConnectTimeout.TotalMilliseconds,
            ConnectRetry = 1,
            AsyncTimeout = (int)commandTimeout.TotalMilliseconds,
            SyncTimeout = (int)commandTimeout.TotalMilliseconds,
            ReconnectRetryPolicy = new LinearRetry((int)ReconnectEvery.TotalMilliseconds),
            BacklogPolicy = BacklogPolicy.Default, // commands wait (within their timeout) for a reconnect instead of failing at once
            AllowAdmin = false,
        };

        if (address.Tls)
        {
            var check = new UpstreamCertificateCheck(address.Host, trust);
            options.CertificateValidation += (_, certificate, chain, errors) => check.TryValidate(certificate, chain, errors, out string? _);
        }

        _connecting = ConnectAsync(options, failed);
    }

    public RedisStoreAddress Address { get; }

    /// <summary>Whether the store is connected now; false before the first connection too.</summary>
    public bool IsConnected => _connecting.IsCompletedSuccessfully && _connecting.Result.IsConnected;

    /// <summary>The multiplexer, once the first attempt has ended (connected or not; it keeps trying in the background).</summary>
    public Task<ConnectionMultiplexer> Multiplexer => _connecting;

    /// <summary>Waits, within <paramref name="timeout"/>, until the store is connected; false if it is not by then.</summary>
    public async Task<bool> WaitConnectedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancellation.CancelAfter(timeout);
        try
        {
            var multiplexer = await _connecting.WaitAsync(cancellation.Token).ConfigureAwait(false);
            if (multiplexer.IsConnected)
            {
                return true;
            }

            var restored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnRestored(object? sender, ConnectionFailedEventArgs args) => restored.TrySetResult();
            multiplexer.ConnectionRestored += OnRestored;
            try
            {
                if (multiplexer.IsConnected)
                {
                    return true;
                }

                await restored.Task.WaitAsync(cancellation.Token).ConfigureAwait(false);
                return true;
            }
            finally
            {
                multiplexer.ConnectionRestored -= OnRestored;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions options, Action<ConnectionFailureType, string>? failed)
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        if (failed is not null)
        {
            multiplexer.ConnectionFailed += (_, args) => failed(args.FailureType, args.Exception?.Message ?? args.FailureType.ToString());
        }

        return multiplexer;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connecting.IsCompletedSuccessfully)
        {
            await _connecting.Result.DisposeAsync().ConfigureAwait(false);
        }
    }
}

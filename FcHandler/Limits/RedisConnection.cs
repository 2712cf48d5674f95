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
internal sealed partial class RedisConnection : IAsyncDisposable
{
    /// <summary>Connecting (DNS, TCP, TLS, AUTH) may take this long: in FC's initializer, or behind the first request without one.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long the library waits before each new attempt after losing the store: a second, so a store that is back is used again within about one.</summary>
    public static readonly TimeSpan ReconnectEvery = TimeSpan.FromSeconds(1);

    private readonly Task<ConnectionMultiplexer> _connecting;
    private readonly TaskCompletionSource<string> _firstFailure = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public RedisConnection(RedisStoreAddress address, TimeSpan commandTimeout, TrustAnchors? trust)
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

        _connecting = ConnectAsync(options);
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

    /// <summary>
    /// Why the first connection failed, from the library's log of it (<c>UnableToConnect: Connection refused</c>, <c>the
    /// store answered NOAUTH Authentication required.</c>); null if it did not, or said nothing clear. The log masks the
    /// password; only this line of it is kept.
    /// </summary>
    public string? LastFailure { get; private set; }

    /// <summary>Completes with <see cref="LastFailure"/> when the first attempt to connect ends unconnected.</summary>
    public Task<string> FirstFailure => _firstFailure.Task;

    private async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions options)
    {
        // The first attempt's failure is raised before any handler can be attached; its log says why.
        using var log = new StringWriter();
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options, log).ConfigureAwait(false);
        if (!multiplexer.IsConnected)
        {
            LastFailure = FailureIn(log.ToString()) ?? "no connection";
            _firstFailure.TrySetResult(LastFailure);
        }

        return multiplexer;
    }

    // "... SimpleError: NOAUTH Authentication required." (the store refused the handshake), or "Connection failed: host
    // (Interactive, UnableToConnect): ..." followed by "> Connection refused" (the network did).
    internal static string? FailureIn(string log)
    {
        var lines = log.Split('\n', StringSplitOptions.TrimEntries);
        var refused = lines.LastOrDefault(line => line.Contains("SimpleError: ", StringComparison.Ordinal));
        if (refused is not null)
        {
            return "the store answered " + refused[(refused.IndexOf("SimpleError: ", StringComparison.Ordinal) + 13)..];
        }

        var failed = Array.FindIndex(lines, line => line.Contains("Connection failed: ", StringComparison.Ordinal));
        if (failed < 0 || FailureType().Match(lines[failed]) is not { Success: true } type)
        {
            return null;
        }

        var cause = failed + 1 < lines.Length && lines[failed + 1].IndexOf(": > ", StringComparison.Ordinal) is var at and >= 0
            ? ": " + lines[failed + 1][(at + 4)..]
            : "";
        return type.Groups[1].Value + cause;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\((?:Interactive|Subscription), (\w+)\)")]
    private static partial System.Text.RegularExpressions.Regex FailureType();

    public async ValueTask DisposeAsync()
    {
        if (_connecting.IsCompletedSuccessfully)
        {
            await _connecting.Result.DisposeAsync().ConfigureAwait(false);
        }
    }
}

using FcHandler.Hosting;
using FcHandler.Proxy;

namespace FcHandler.Limits;

/// <summary>
/// The shared store as the commands reach it (<c>token revoke</c>, <c>limits show</c>): from <c>LIMITS_STORE</c> in
/// the environment, the proxy's own settings and checks, connected within <see cref="RedisConnection.ConnectTimeout"/>.
/// </summary>
internal static class StoreCommandConnection
{
    /// <summary>The store, or null after saying on <paramref name="stderr"/> why not (exit code in <paramref name="exit"/>).</summary>
    public static async Task<(RedisLimitStore? Store, RedisConnection? Connection, int Exit)> OpenAsync(
        string command, LimitsOptions options, IConfiguration configuration, TextWriter stderr)
    {
        if (options.Store is not { } address)
        {
            await stderr.WriteLineAsync(
                $"{command}: {ConfigKeys.LimitsStore} is not set. Without a shared store each instance keeps its own counters and " +
                $"revocations in memory, where no command can reach them; set {ConfigKeys.LimitsStore} to the store the function uses.");
            return (null, null, 2);
        }

        var trust = options.StoreCaFile is { } file
            ? TrustAnchors.Parse(await File.ReadAllTextAsync(file))
            : ProxyOptionsReader.Read(configuration).UpstreamTrustAnchors;
        var connection = new RedisConnection(address, RedisConnection.ConnectTimeout, trust);
        if (!await connection.WaitConnectedAsync(RedisConnection.ConnectTimeout, CancellationToken.None))
        {
            await stderr.WriteLineAsync($"{command}: could not connect to the limits store {address} within {RedisConnection.ConnectTimeout.TotalSeconds:0}s.");
            await connection.DisposeAsync();
            return (null, null, 1);
        }

        return (new RedisLimitStore(connection, options.UtcOffsetSeconds), connection, 0);
    }
}

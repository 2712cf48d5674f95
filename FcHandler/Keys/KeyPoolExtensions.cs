using FcHandler.Fc;
using FcHandler.Limits;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FcHandler.Keys;

/// <summary>Registers the key pool of server-key mode; the upstream client puts its handler in front of the connections.</summary>
internal static class KeyPoolExtensions
{
    public static IServiceCollection AddKeyPool(this IServiceCollection services, IReadOnlyList<UpstreamKey> keys)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(provider =>
        {
            var time = provider.GetRequiredService<TimeProvider>();
            var pool = new KeyPool(keys, time, provider.GetRequiredService<ILogger<KeyPool>>());

            // With LIMITS_STORE, cooldowns go through the limits store's connection (registered by AddLimits).
            if (pool.IsPool && provider.GetService<GuardedLimitStore>() is { Connection: { } connection } store)
            {
                pool.Shared = new SharedKeyCooldowns(keys, connection, store.Options.StoreTimeout, time, provider.GetRequiredService<ILogger<SharedKeyCooldowns>>());
            }

            return pool;
        });

        // At FC's /initialize, beside the warm-up: every key asked once, a refused one put to rest before a client meets it.
        services.AddSingleton<IInstanceInitializer, KeyProbe>();
        return services;
    }
}

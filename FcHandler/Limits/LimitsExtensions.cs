using FcHandler.Fc;
using FcHandler.Hosting;
using FcHandler.Logging;
using FcHandler.Proxy;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FcHandler.Limits;

/// <summary>Registers and wires rate limits and budgets.</summary>
internal static class LimitsExtensions
{
    /// <summary>Reads the limits' settings (refusing any that do not parse) and registers the stores.</summary>
    public static WebApplicationBuilder AddLimits(this WebApplicationBuilder builder)
    {
        var options = LimitsOptionsReader.Read(builder.Configuration);
        builder.Services.AddSingleton(options);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(provider => new MemoryLimitStore(provider.GetRequiredService<TimeProvider>(), options.UtcOffsetSeconds));
        builder.Services.AddSingleton(provider => CreateStore(provider, options));
        builder.Services.AddSingleton<RevocationList>();
        builder.Services.AddSingleton<IInstanceInitializer, LimitsStoreInitializer>();
        return builder;
    }

    /// <summary>The limits step; <c>MapFcProxy</c> runs it after admission (which names the subject and the model) and before the usage step.</summary>
    public static void UseLimits(WebApplication app)
    {
        var services = app.Services;
        var options = services.GetRequiredService<LimitsOptions>();
        var store = services.GetRequiredService<GuardedLimitStore>();
        var logger = services.GetRequiredService<ILogger<LimitsMiddleware>>();
        app.Use(next => new LimitsMiddleware(
            next, options, store, services.GetRequiredService<RevocationList>(), services.GetRequiredService<TimeProvider>(), logger).InvokeAsync);

        if (options.AnyConfigured || options.Store is not null)
        {
            var configured = options.AnyConfigured
                ? $"default {options.Default?.Text ?? "none"}, {options.BySubject.Count} subject(s) of their own"
                : "none configured (tokens may carry their own)";
            ProxyLog.LimitsConfigured(logger, configured, store.Name, options.FailureMode.ToString().ToLowerInvariant(), options.StoreTimeout.TotalMilliseconds);
            _ = store.Ready; // connect now, not on the first request
        }
    }

    private static GuardedLimitStore CreateStore(IServiceProvider provider, LimitsOptions options)
    {
        var time = provider.GetRequiredService<TimeProvider>();
        var logger = provider.GetRequiredService<ILogger<GuardedLimitStore>>();
        RedisConnection? connection = null;
        RedisLimitStore? shared = null;
        if (options.Store is { } address)
        {
            var trust = options.StoreCaFile is { } file
                ? TrustAnchors.Parse(File.ReadAllText(file))
                : provider.GetRequiredService<ProxyOptions>().UpstreamTrustAnchors;
            connection = new RedisConnection(address, options.StoreTimeout, trust);
            shared = new RedisLimitStore(connection, options.UtcOffsetSeconds);
        }

        return new GuardedLimitStore(options, provider.GetRequiredService<MemoryLimitStore>(), shared, connection, time, logger);
    }

    /// <summary>FC's initializer waits for the store's connection, so the instance's first request finds it open.</summary>
    private sealed class LimitsStoreInitializer(GuardedLimitStore store) : IInstanceInitializer
    {
        public async Task InitializeAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            try
            {
                await store.Ready.WaitAsync(timeout, cancellationToken);
            }
            catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
            {
                // Still connecting: requests wait for it within LIMITS_STORE_TIMEOUT, and the log says if it never comes.
            }
        }
    }
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using FcHandler.Proxy.WebSockets;

namespace FcHandler.Fc;

/// <summary>Registers and wires FC's contract in front of the proxy.</summary>
internal static class FcExtensions
{
    public static IServiceCollection AddFcRuntime(this IServiceCollection services, IConfiguration configuration)
    {
        var options = FcOptions.Read(configuration);
        services.AddSingleton(FcEnvironment.Read(configuration));
        services.AddSingleton(options);
        services.AddSingleton<FcContextFactory>();
        services.AddSingleton<InFlightRequests>();
        services.AddSingleton<UpstreamWarmup>();
        services.AddSingleton<IInstanceInitializer>(provider => provider.GetRequiredService<UpstreamWarmup>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IManagedHeap, GcManagedHeap>();
        services.AddHostedService<IdleMemoryTrim>();

        // SIGTERM drains like pre-stop, and the process exits within PRE_STOP_TIMEOUT and the WebSockets' close wait
        // (the host's default is 30 s).
        services.AddHostedService<ShutdownDrain>();
        services.Configure<HostOptions>(host => host.ShutdownTimeout = options.PreStopTimeout + WebSocketSessions.CloseWait);
        return services;
    }

    /// <summary>FC's context, control paths and log markers: the outermost step, before the proxy's own.</summary>
    public static WebApplication UseFcRuntime(this WebApplication app)
    {
        var services = app.Services;
        app.Use(next => new FcMiddleware(
            next,
            services.GetRequiredService<FcContextFactory>(),
            services.GetRequiredService<InFlightRequests>(),
            [.. services.GetServices<IInstanceInitializer>()],
            services.GetRequiredService<WebSocketSessions>(),
            services.GetRequiredService<FcOptions>(),
            services.GetRequiredService<ILogger<FcMiddleware>>()).InvokeAsync);
        return app;
    }
}

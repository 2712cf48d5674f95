using FcHandler.Hosting;
using FcHandler.Logging;

namespace FcHandler.Proxy;

/// <summary>Registers and wires the proxy's request path.</summary>
internal static class ProxyExtensions
{
    public static IServiceCollection AddFcProxy(this IServiceCollection services, ProxyOptions options)
    {
        // The direct forwarder only: no route or cluster configuration, one fixed upstream.
        services.AddHttpForwarder();
        services.AddSingleton(options);
        services.AddSingleton<UpstreamClient>();
        services.AddSingleton<CorsPolicy>();
        services.AddSingleton<ProxyEndpoint>();
        return services;
    }

    /// <summary>access log -> CORS -> route table -> local answer or forwarder.</summary>
    public static WebApplication MapFcProxy(this WebApplication app)
    {
        var services = app.Services;
        app.Use(next => new AccessLogMiddleware(next, services.GetRequiredService<ILogger<AccessLogMiddleware>>()).InvokeAsync);
        app.Use(next => new CorsMiddleware(next, services.GetRequiredService<CorsPolicy>()).InvokeAsync);
        app.Run(services.GetRequiredService<ProxyEndpoint>().InvokeAsync);
        return app;
    }
}

using FcHandler.Errors;
using FcHandler.Hosting;
using FcHandler.Logging;
using FcHandler.Proxy.WebSockets;

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
        services.AddSingleton(new ProxyTransformer(HeaderRules.RequestAllowListWith(options.ForwardHeaders)));
        services.AddSingleton<CorsPolicy>();
        services.AddSingleton<WebSocketSessions>();
        services.AddSingleton<WebSocketForwarder>();
        services.AddSingleton<ProxyEndpoint>();
        return services;
    }

    /// <summary>canonical path -> access log -> CORS -> a pending refusal (draining) -> <paramref name="beforeForwarding"/> -> route table -> local answer or forwarder.</summary>
    /// <param name="app">The application.</param>
    /// <param name="beforeForwarding">
    /// Each adds steps whose answers need CORS headers but must come before anything is forwarded (access control,
    /// then the stream-usage request). Callbacks, so this folder need not know them.
    /// </param>
    public static WebApplication MapFcProxy(this WebApplication app, params ReadOnlySpan<Action<WebApplication>> beforeForwarding)
    {
        var services = app.Services;
        app.Use(CanonicalPath.Apply);
        var heartbeat = services.GetRequiredService<ProxyOptions>().SseHeartbeat;
        app.Use(next => new AccessLogMiddleware(next, heartbeat, services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<AccessLogMiddleware>>()).InvokeAsync);
        app.Use(next => new CorsMiddleware(next, services.GetRequiredService<CorsPolicy>(), services.GetRequiredService<ILogger<CorsMiddleware>>()).InvokeAsync);
        app.Use(PendingRefusal.AnswerFirst);
        foreach (var step in beforeForwarding)
        {
            step(app);
        }

        app.Run(services.GetRequiredService<ProxyEndpoint>().InvokeAsync);
        return app;
    }
}

using FcHandler.Keys;
using FcHandler.Logging;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FcHandler.Access;

/// <summary>Registers and wires access control and the client limits.</summary>
internal static class AccessExtensions
{
    /// <summary>Reads the access settings (refusing unsafe ones) and applies the client limits to Kestrel.</summary>
    public static WebApplicationBuilder AddAccessControl(this WebApplicationBuilder builder)
    {
        var options = AccessOptionsReader.Read(builder.Configuration);

        // Registered after UseProxyKestrel, so these limits replace its defaults.
        builder.WebHost.ConfigureKestrel(kestrel => options.Limits.ApplyTo(kestrel.Limits));
        builder.Services.AddSingleton(options);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<AccessGate>();
        builder.Services.AddSingleton(new TempStorage(options.Limits.TempStorageDirectory, options.Limits.TempStorageBytes));
        builder.Services.AddSingleton<BodySpooler>();
        builder.Services.AddSingleton<RequestBodyBuffer>();
        if (options.Enabled)
        {
            builder.Services.AddKeyPool(options.ServerKeys);
        }

        return builder;
    }

    /// <summary>The admission step; <c>MapFcProxy</c> runs it after CORS and before the forwarder.</summary>
    public static void UseAdmission(WebApplication app)
    {
        var services = app.Services;
        var options = services.GetRequiredService<AccessOptions>();
        var logger = services.GetRequiredService<ILogger<AdmissionMiddleware>>();
        app.Use(next => new AdmissionMiddleware(
            next, options, services.GetRequiredService<AccessGate>(), services.GetRequiredService<RequestBodyBuffer>(), logger).InvokeAsync);

        if (options.Enabled)
        {
            ProxyLog.ServerKeyMode(logger, options.ServerKeysSetting, options.ServerKeys.Count, options.StaticTokens.Count, options.TokenSecret is null ? "off" : "on", options.RevokedTokenIds.Count);
            if (options.ServerKeys.Count > 1)
            {
                ProxyLog.KeyPool(logger, options.ServerKeys.Count, string.Join(", ", options.ServerKeys.Select(key => key.Label)));
            }
        }
        else
        {
            ProxyLog.PassThroughKeyMode(logger);
        }
    }
}

using FcHandler.Access;
using FcHandler.Diagnostics;
using FcHandler.Fc;
using FcHandler.Hosting;
using FcHandler.Limits;
using FcHandler.Proxy;
using FcHandler.Usage;

namespace FcHandler;

/// <summary>The proxy's entry point and its composition, in the order a request meets it.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        StartupTrace.Mark("main");
        if (args is ["token", "revoke", .. var revokeArgs])
        {
            return await TokenRevokeCommand.RunAsync(revokeArgs); // revokes a signed token through the limits store
        }

        if (args is ["token", .. var tokenArgs])
        {
            return TokenCommand.Run(tokenArgs); // issues access tokens; starts no server
        }

        if (args is ["invoke", .. var invokeArgs])
        {
            return await InvokeCommand.RunAsync(invokeArgs, Console.In, Console.Out, Console.Error);
        }

        if (args is ["usage", .. var usageArgs])
        {
            return await UsageCommand.RunAsync(usageArgs, Console.In, Console.Out, Console.Error); // totals from log lines
        }

        if (args is ["limits", .. var limitsArgs])
        {
            return await LimitsCommand.RunAsync(limitsArgs); // a subject's windows and budget, read from the limits store
        }

        if (args is ["doctor", .. var doctorArgs])
        {
            return await DoctorCommand.RunAsync(doctorArgs); // checks the way to the upstream; starts no server
        }

        WebApplication app;
        try
        {
            app = Build(args);
        }
        catch (ConfigurationException exception)
        {
            await Console.Error.WriteAsync(StartupFailure.Line(exception.Message));
            return 2;
        }

        app.Lifetime.ApplicationStarted.Register(() => StartupTrace.Mark("listening"));
        await app.RunAsync();
        return 0;
    }

    /// <summary>Builds the application; <paramref name="configure"/> lets tests add settings and log sinks.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = args });
        builder.UseProxyHost(args);                                          // Kestrel, settings from the environment
        builder.UseProxyLogging();                                           // one line per event on stdout
        configure?.Invoke(builder);
        StartupTrace.Mark("builder");

        builder.UseLogFormat();                                              // json in FC, text elsewhere, or LOG_FORMAT
        var options = ProxyOptionsReader.Read(builder.Configuration);      // settings, validated or refused
        builder.UseProxyKestrel(ListenEndpoint.Read(builder.Configuration)); // address, port, limits
        builder.Services.AddFcRuntime(builder.Configuration);                // FC context, lifecycle hooks, event mode
        builder.Services.AddFcProxy(options);                                // forwarder, upstream pool, CORS
        builder.AddAccessControl();                                          // server key, access tokens, client limits
        builder.AddLimits();                                                 // rate limits and budgets per subject, their store

        StartupTrace.Mark("services");
        var app = builder.Build();
        StartupTrace.Mark("container");
        app.UseFcRuntime();                                                  // FC context, control paths, log markers
        app.MapFcProxy(AccessExtensions.UseAdmission, LimitsExtensions.UseLimits, StreamUsageMiddleware.Use); // access log, CORS, admission, limits, usage, forwarding
        app.LogStartup(options);
        StartupTrace.Mark("pipeline");
        return app;
    }
}

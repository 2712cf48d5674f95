using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using FcHandler.Logging;
using Microsoft.Extensions.Options;

namespace FcHandler.Hosting;

/// <summary>How the process hosts the proxy: Kestrel's address and limits, and the log output.</summary>
internal static class HostingExtensions
{
    /// <summary>FC's own limit for a synchronous request body (https://help.aliyun.com/document_detail/191345.html).</summary>
    public const long MaxRequestBodyBytes = 32L * 1024 * 1024;

    /// <summary>
    /// The host's parts, on an empty builder: Kestrel without HTTPS (FC terminates TLS), and settings from the
    /// environment and the command line. Nothing else: no appsettings files to look for and watch, no host-filtering
    /// or routing services, so a cold start does only what the proxy needs.
    /// </summary>
    public static WebApplicationBuilder UseProxyHost(this WebApplicationBuilder builder, string[] args)
    {
        builder.WebHost.UseKestrelCore();
        builder.Configuration.AddEnvironmentVariables().AddCommandLine(args);
        return builder;
    }

    public static WebApplicationBuilder UseProxyKestrel(this WebApplicationBuilder builder, ListenEndpoint endpoint)
    {
        // Where socket completions run inline, Kestrel runs its own continuations inline too, so socket reads and the
        // client's writes no longer each wait for a thread-pool worker (HTTP/2 still hands each stream's data to one:
        // SocketsHttpHandler completes its streams' reads asynchronously). On 0.1 vCPU that is about a fifth less CPU
        // per relayed event (bench/README.md, "What was tried under the quota"). Kestrel calls it unsafe because
        // application code then runs on the I/O thread; nothing in the request path blocks a thread (file I/O and DNS
        // go to the thread pool), and the test suite runs in this mode too (FcHandler.Tests/test.runsettings).
        var inline = Environment.GetEnvironmentVariable(ConfigKeys.SetByBootstrap.InlineCompletions) == "1";
        builder.Services.Configure<SocketTransportOptions>(sockets => sockets.UnsafePreferInlineScheduling = inline);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // FC refuses a Server header from a function, and it tells a scanner what runs here.
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;

            if (endpoint.Address is null)
            {
                kestrel.ListenLocalhost(endpoint.Port);
            }
            else
            {
                kestrel.Listen(endpoint.Address, endpoint.Port);
            }
        });
        return builder;
    }

    /// <summary>One line per event on stdout, where FC collects it; the framework's chatter only from warnings up.</summary>
    public static WebApplicationBuilder UseProxyLogging(this WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddConfiguration(builder.Configuration.GetSection(ConfigKeys.Logging)); // Logging__LogLevel__<category>
        // A factory registration, so the container disposes the provider at shutdown and its last lines are written.
        builder.Services.AddSingleton<ILoggerProvider>(services =>
        {
            var output = services.GetRequiredService<IOptions<LogOutputOptions>>().Value;
            return new StdoutLoggerProvider(output.StandardError ? Console.OpenStandardError() : Console.OpenStandardOutput(), output.Format);
        });
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // YARP reports each failed forward at Warning with a stack trace; ProxyEndpoint logs one line for it instead.
        builder.Logging.AddFilter("Yarp", LogLevel.Error);
        return builder;
    }

    /// <summary>Text or JSON lines (<c>LOG_FORMAT</c>), read with the other settings so a bad value stops start-up.</summary>
    public static WebApplicationBuilder UseLogFormat(this WebApplicationBuilder builder)
    {
        var format = LogFormats.Read(builder.Configuration);
        builder.Services.Configure<LogOutputOptions>(output => output.Format = format);
        return builder;
    }

    /// <summary>
    /// Says once, at start, where the proxy listens, where it forwards, which extra headers go with it, and the instance
    /// as the runtime sees it: on FC the heap limit should follow the function's memory (build/bootstrap sees to it even
    /// where FC's sandbox hides the memory cgroup), and this line is where an operator can check that it does.
    /// </summary>
    public static WebApplication LogStartup(this WebApplication app, ProxyOptions options)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FcHandler");
            ProxyLog.Listening(logger, addresses is null ? "?" : string.Join(", ", addresses), options.DestinationPrefix);
            ProxyLog.Instance(logger, Environment.ProcessorCount, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024));
            if (options.ForwardHeaders.Count > 0)
            {
                ProxyLog.ForwardHeaders(logger, string.Join(", ", options.ForwardHeaders));
            }
        });
        return app;
    }
}

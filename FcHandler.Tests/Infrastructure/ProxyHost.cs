using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// The real proxy application (<see cref="Program.Build"/>) on 127.0.0.1:0, configured in memory exactly as the
/// environment would configure it, with its logs captured.
/// </summary>
public sealed class ProxyHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private Task? _stopped;

    private ProxyHost(WebApplication app, LogCapture logs, Uri baseAddress)
    {
        _app = app;
        Logs = logs;
        BaseAddress = baseAddress;
        Client = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.None, UseCookies = false })
        {
            BaseAddress = baseAddress,
        };
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public LogCapture Logs { get; }

    public IServiceProvider Services => _app.Services;

    public static Task<ProxyHost> StartAsync(FakeOpenAI upstream, IDictionary<string, string?>? settings = null)
        => StartAsync(upstream.BaseAddress.ToString(), settings);

    /// <param name="upstream">UPSTREAM_BASE_URL.</param>
    /// <param name="settings">Further settings, as the environment would give them.</param>
    /// <param name="services">Services to add, such as an <see cref="Proxy.UpstreamResolver"/>.</param>
    public static async Task<ProxyHost> StartAsync(string upstream, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var logs = new LogCapture();
        var app = Program.Build([], builder =>
        {
            var all = new Dictionary<string, string?>
            {
                ["UPSTREAM_BASE_URL"] = upstream,
                ["LISTEN_HOST"] = "127.0.0.1",
                ["FC_CUSTOM_LISTEN_PORT"] = "0",
                // The tests play FC's part (control paths, FC's request ids) without FC_FUNCTION_NAME, which would also
                // change the listen address and the log format; a test of a deployment outside FC sets it off.
                ["PROXY_FC_EMULATION"] = "on",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                all[key] = value;
            }

            builder.Configuration.AddInMemoryCollection(all);
            builder.Logging.AddProvider(logs);
            services?.Invoke(builder.Services);
        });
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new ProxyHost(app, logs, new Uri(address));
    }

    /// <summary>The proxy's base URL as an OpenAI client wants it: ending in /v1.</summary>
    public Uri OpenAIEndpoint => new(BaseAddress, "/v1");

    /// <summary>Stops the host as SIGTERM does; once is enough, disposing does not stop it again.</summary>
    public Task StopAsync() => _stopped ??= _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await StopAsync();
        await _app.DisposeAsync();
    }
}

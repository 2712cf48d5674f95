using System.Net.Http.Headers;
using FcHandler.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using FcHandler.Logging;

namespace FcHandler.Fc;

/// <summary>
/// <c>FcHandler invoke --event &lt;file|-&gt;</c>: what <c>fun local invoke</c> and <c>s local invoke</c> did, without
/// Docker. It starts the proxy on a free loopback port, sends the event to it exactly as FC sends one
/// (<c>POST /invoke</c> with <c>x-fc-control-path: /invoke</c>), and prints the response event FC would return on
/// stdout. Logs, FC's markers among them, go to stderr.
/// </summary>
internal static class InvokeCommand
{
    public const string Usage = "usage: FcHandler invoke --event <file.json | ->";

    public static async Task<int> RunAsync(
        string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr, Action<WebApplicationBuilder>? configure = null)
    {
        if (args is not ["--event" or "-e", var source] || source.Length == 0)
        {
            await stderr.WriteLineAsync(Usage);
            return 2;
        }

        string payload;
        try
        {
            payload = source == "-" ? await stdin.ReadToEndAsync() : await File.ReadAllTextAsync(source);
        }
        catch (IOException exception)
        {
            await stderr.WriteLineAsync($"Cannot read the event from {source}: {exception.Message}");
            return 2;
        }

        WebApplication app;
        try
        {
            app = Program.Build([], builder =>
            {
                builder.Configuration.AddInMemoryCollection(
                [
                    new(ConfigKeys.ListenHost, "127.0.0.1"),
                    new(ConfigKeys.SetByFc.CustomListenPort, "0"),
                    // It sends the event as FC does, on FC's control path.
                    new(ConfigKeys.ProxyFcEmulation, "on"),
                ]);
                // stdout carries the response event alone.
                builder.Services.Configure<LogOutputOptions>(output => output.StandardError = true);
                configure?.Invoke(builder);
            });
        }
        catch (ConfigurationException exception)
        {
            await stderr.WriteLineAsync($"FcHandler cannot start: {exception.Message}");
            return 2;
        }

        await using (app)
        {
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

            using var client = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(address), "/invoke"))
            {
                Content = new StringContent(payload),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            request.Headers.Add(FcHeaders.ControlPath, "/invoke");
            request.Headers.Add(FcHeaders.RequestId, Guid.NewGuid().ToString());

            using var response = await client.SendAsync(request);
            await stdout.WriteAsync(await response.Content.ReadAsStringAsync());
            await stdout.FlushAsync();
            await app.StopAsync();

            // 0: FC would have returned this event (whatever its statusCode); 1: FC would have refused the event.
            return response.IsSuccessStatusCode ? 0 : 1;
        }
    }
}

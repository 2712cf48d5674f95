using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace FcHandler.Tests.Infrastructure.FcGateway;

/// <summary>
/// FC's gateway as an HTTP client reaches it (the custom domain), on 127.0.0.1:0: each request goes through
/// <see cref="FcGateway.SendAsync"/>, and each response's body is written on as the function sends it, piece by piece,
/// flushed at once, as FC streams a chunked response (https://help.aliyun.com/zh/fc/support/sse). For clients such as
/// the official OpenAI SDK that need a URL.
/// </summary>
public sealed class FcGatewayFront : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FcGatewayFront(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public static async Task<FcGatewayFront> StartAsync(FcGateway gateway)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(async context =>
        {
            using var body = new StreamReader(context.Request.Body);
            var text = await body.ReadToEndAsync(context.RequestAborted);
            var headers = context.Request.Headers
                .Where(header => header.Key is not ("Host" or "Connection" or "Keep-Alive" or "Content-Length" or "Transfer-Encoding"))
                .ToDictionary(header => header.Key, header => header.Value.ToString());
            using var response = await gateway.SendAsync(
                context.Request.Method, context.Request.Path + context.Request.QueryString, headers, text.Length == 0 ? null : text, context.RequestAborted);
            context.Response.StatusCode = response.Status;
            foreach (var (name, value) in response.Headers)
            {
                context.Response.Headers.Append(name, value);
            }

            await context.Response.StartAsync(context.RequestAborted);
            while (await response.ReadChunkAsync(context.RequestAborted) is { } piece)
            {
                await context.Response.Body.WriteAsync(piece, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new FcGatewayFront(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

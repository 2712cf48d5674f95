using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// An in-process stand-in for api.openai.com on 127.0.0.1:0: records every request it receives and answers with
/// <see cref="Handler"/>, which defaults to <see cref="FakeResponses.DefaultAsync"/>. One per test: nothing shared.
/// </summary>
public sealed class FakeOpenAI : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private int _connections;

    private FakeOpenAI(WebApplication app) => _app = app;

    /// <summary>Answers each request after it has been recorded (its body is already read).</summary>
    public Func<HttpContext, RecordedRequest, Task> Handler { get; set; } = FakeResponses.DefaultAsync;

    public Uri BaseAddress { get; private set; } = null!;

    public IReadOnlyCollection<RecordedRequest> Requests => _requests;

    /// <summary>TCP connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    public RecordedRequest SingleRequest => Assert.Single(_requests);

    /// <param name="certificate">Serve HTTPS with this certificate, HTTP/2 (ALPN h2) and HTTP/1.1; plain HTTP/1.1 without.</param>
    public static async Task<FakeOpenAI> StartAsync(X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        FakeOpenAI? fake = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = certificate is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
                listen.Use(next => connection =>
                {
                    Interlocked.Increment(ref fake!._connections);
                    return next(connection);
                });
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });

        var app = builder.Build();
        fake = new FakeOpenAI(app);
        app.Run(fake.HandleAsync);
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        fake.BaseAddress = new Uri(address);
        return fake;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);

        var headers = context.Request.Headers.ToDictionary(
            h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedRequest(
            context.Request.Method,
            context.Request.Path.Value ?? "",
            context.Request.QueryString.Value ?? "",
            context.Request.Host.Value ?? "",
            headers,
            body.ToArray());
        _requests.Enqueue(recorded);

        await Handler(context, recorded);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

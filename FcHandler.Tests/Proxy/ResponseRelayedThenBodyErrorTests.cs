using System.Net;
using FcHandler.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FcHandler.Tests.Proxy;

/// <summary>
/// YARP's last step: having relayed the upstream's whole answer, it reports a request-body error (the body's copy was
/// cancelled once the upstream had answered) and leaves the response to finish. Seen on FC's smallest instance under
/// its CPU quota (bench/README.md, limits store). The forwarder here does exactly that, on a real socket, so the test
/// shows what the client gets.
/// </summary>
public sealed class ResponseRelayedThenBodyErrorTests
{
    private const string Answer = """{"id":"chatcmpl-1","object":"chat.completion","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";

    private sealed class RelayThenReport(ForwarderError error, Exception exception, bool resetFirst) : IHttpForwarder
    {
        public ValueTask<ForwarderError> SendAsync(
            HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer)
            => SendAsync(context, destinationPrefix, httpClient, requestConfig, transformer, context.RequestAborted);

        public async ValueTask<ForwarderError> SendAsync(
            HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer,
            CancellationToken cancellationToken)
        {
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(Answer, cancellationToken);
            if (resetFirst)
            {
                context.Abort(); // what YARP does when the body's error cut the response short
            }

            context.Features.Set<IForwarderErrorFeature>(new Feature(error, exception));
            return error;
        }

        private sealed class Feature(ForwarderError error, Exception exception) : IForwarderErrorFeature
        {
            public ForwarderError Error => error;

            public Exception? Exception => exception;
        }
    }

    private static Task<ProxyHost> StartAsync(IHttpForwarder forwarder)
        => ProxyHost.StartAsync($"http://127.0.0.1:{Ports.Unused()}", null, services => services.AddSingleton(forwarder));

    [Theory]
    [InlineData(ForwarderError.RequestBodyClient)]
    [InlineData(ForwarderError.RequestBodyDestination)]
    [InlineData(ForwarderError.RequestBodyCanceled)]
    public async Task BodyErrorAfterTheWholeAnswer_TheClientGetsItWhole(ForwarderError error)
    {
        await using var proxy = await StartAsync(new RelayThenReport(error, new TaskCanceledException(), resetFirst: false));

        using var response = await proxy.Client.PostAsync("/v1/chat/completions", new StringContent("""{"model":"gpt-4o-mini"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Answer, await response.Content.ReadAsStringAsync());
        var line = await proxy.Logs.WaitForLineAsync(l => l.Contains("/v1/chat/completions", StringComparison.Ordinal));
        Assert.Contains(" 200 ", line, StringComparison.Ordinal);
        Assert.Contains("error=-", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyErrorThatCutTheAnswerShort_TheConnectionStaysAborted()
    {
        await using var proxy = await StartAsync(new RelayThenReport(
            ForwarderError.RequestBodyClient, new AggregateException(new IOException("client"), new IOException("response")), resetFirst: true));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent("""{"model":"gpt-4o-mini"}""") };
        using var response = await proxy.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => response.Content.ReadAsStringAsync());
    }
}

using System.Text.Json;
using FcHandler.Json;
using FcHandler.Proxy;

namespace FcHandler.Errors;

/// <summary>Writes a <see cref="ProxyError"/> as the whole response, if the response has not started.</summary>
internal static class ErrorWriter
{
    public static Task WriteAsync(HttpContext context, ProxyError error)
    {
        context.Features.Get<ProxyExchange>()?.RecordProxyError(error.Code);
        var response = context.Response;
        if (response.HasStarted)
        {
            // Too late for a status: only an abort tells the client the response is incomplete.
            context.Abort();
            return Task.CompletedTask;
        }

        // Drops whatever a failed forward left (status, upstream headers); OnStarting callbacks (CORS) survive.
        response.Clear();
        response.StatusCode = error.Status;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        if (error.RetryAfter is not null)
        {
            response.Headers.RetryAfter = error.RetryAfter;
        }

        foreach (var (name, value) in error.Headers ?? [])
        {
            response.Headers[name] = value;
        }

        return JsonSerializer.SerializeAsync(response.Body, error.ToEnvelope(context.TraceIdentifier), ProxyJsonContext.Web.ErrorEnvelope, context.RequestAborted);
    }
}

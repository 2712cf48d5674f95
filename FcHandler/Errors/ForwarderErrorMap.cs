using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FcHandler.Errors;

/// <summary>Turns YARP's account of a failed forward into the error the client gets.</summary>
internal static class ForwarderErrorMap
{
    /// <summary>The error to answer with, or null when there is nobody left to answer (the client went away).</summary>
    public static ProxyError? ToProxyError(HttpContext context, ForwarderError error)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            return null;
        }

        var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
        return error switch
        {
            // Canceled without the client aborting: the idle timeout fired while the body was still moving.
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled => ProxyError.UpstreamTimeout(),
            ForwarderError.RequestBodyClient when exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                => ProxyError.RequestBodyTooLarge(context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize),
            ForwarderError.RequestBodyClient => ProxyError.RequestBodyInvalid(),
            _ when UpstreamFault.Of(error, exception) is { } fault => fault.Error,
            ForwarderError.RequestTimedOut => ProxyError.UpstreamTimeout(),
            _ => ProxyError.UpstreamUnreachable(),
        };
    }
}

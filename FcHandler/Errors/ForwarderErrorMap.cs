using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FcHandler.Errors;

/// <summary>Turns YARP's account of a failed forward into the error the client gets.</summary>
internal static class ForwarderErrorMap
{
    /// <summary>
    /// The error to answer with, or null when there is nobody left to answer (the client went away).
    /// <paramref name="exception"/> is YARP's (its <see cref="IForwarderErrorFeature"/>), and <paramref name="fault"/> what
    /// <see cref="UpstreamFault.Of"/> made of the two.
    /// </summary>
    public static ProxyError? ToProxyError(HttpContext context, ForwarderError error, Exception? exception, UpstreamFault? fault)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            return null;
        }

        return error switch
        {
            // Canceled without the client aborting: the idle timeout fired while the body was still moving.
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled => ProxyError.UpstreamTimeout(),
            ForwarderError.RequestBodyClient when exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                => ProxyError.RequestBodyTooLarge(context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize),
            ForwarderError.RequestBodyClient => ProxyError.RequestBodyInvalid(),
            _ when fault is { } named => named.Error,
            ForwarderError.RequestTimedOut => ProxyError.UpstreamTimeout(),
            _ => ProxyError.UpstreamUnreachable(),
        };
    }
}

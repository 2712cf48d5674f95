using FcHandler.Errors;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace FcHandler.Access;

/// <summary>
/// Receives the whole request body before anything is forwarded: a body over the limit, malformed (bad chunked
/// encoding, shorter than its Content-Length) or stalled is answered here and the upstream never hears of it, and a
/// slow upload never holds an upstream connection. A small declared body is kept in an array of its own size; others in
/// memory up to
/// <see cref="ClientLimits.MemoryBufferBytes"/> and in a temporary file beyond (FC's /tmp), so a 32 MB upload costs a
/// 128 MB instance no more than 64 KB of memory; the price is that the upload to the upstream starts after the
/// client's has finished. OpenAI's request bodies are small except file and audio uploads.
/// </summary>
internal static class RequestBodyBuffer
{
    /// <summary>Null when the body (if any) is buffered and rewound; else the error to answer with.</summary>
    public static async Task<ProxyError?> BufferAsync(HttpContext context, long limit)
    {
        var request = context.Request;

        // 1. A declared length over the limit is refused before a byte of the body is read.
        if (request.ContentLength > limit)
        {
            return ProxyError.RequestBodyTooLarge(limit);
        }

        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true)
        {
            return null;
        }

        // 2. Kestrel counts what it reads against this and fails the read past it: the bound for chunked bodies.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        // 3. Read it all. A small declared body (the usual chat request) goes into an array of exactly its size: it stays
        //    alive as long as the response (minutes, for a stream), so it must not hold a 64 KB buffer. Anything else is
        //    buffered by ASP.NET, in memory up to the threshold and in a temporary file beyond; EnableBuffering disposes
        //    the buffer (and deletes its file) with the response.
        try
        {
            if (request.ContentLength is { } length and <= ClientLimits.MemoryBufferBytes)
            {
                var body = new byte[length];
                await request.Body.ReadExactlyAsync(body, context.RequestAborted);
                request.Body = new MemoryStream(body, writable: false);
            }
            else
            {
                request.EnableBuffering(ClientLimits.MemoryBufferBytes);
                await request.Body.DrainAsync(context.RequestAborted);
            }
        }
        catch (BadHttpRequestException exception)
        {
            return exception.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => ProxyError.RequestBodyTooLarge(limit),
                StatusCodes.Status408RequestTimeout => ProxyError.RequestBodyTimeout(),
                _ => ProxyError.RequestBodyInvalid(),
            };
        }
        catch (IOException) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Kestrel reports some framing errors this way, such as a chunk size that overflows ("Bad chunk size data");
            // a body that ends before its Content-Length surfaces as EndOfStreamException, an IOException too.
            return ProxyError.RequestBodyInvalid();
        }

        request.Body.Position = 0;

        // 4. Forward what was received with its exact length: the upstream then never sees chunked framing, and a
        //    Content-Length sent alongside Transfer-Encoding (a smuggling attempt) is replaced by the truth.
        if (request.Headers.ContainsKey(HeaderNames.TransferEncoding))
        {
            request.Headers.Remove(HeaderNames.TransferEncoding);
            request.ContentLength = request.Body.Length;
        }

        return null;
    }
}

using System.Buffers;
using FcHandler.Errors;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace FcHandler.Access;

/// <summary>
/// Receives the whole request body before anything is forwarded: a body over the limit, malformed (bad chunked
/// encoding, shorter than its Content-Length) or stalled is answered here and the upstream never hears of it, and a
/// slow upload never holds an upstream connection. A small declared body is kept in an array of its own size; others in
/// memory up to <see cref="ClientLimits.MemoryBufferBytes"/> and in a temporary file beyond (FC's /tmp), so a 32 MB
/// upload costs a 128 MB instance no more than 64 KB of memory; the price is that the upload to the upstream starts
/// after the client's has finished. OpenAI's request bodies are small except file and audio uploads.
/// Reading the client and writing the file are kept apart: a failed read is the client's (400, 408, 413), while the
/// temporary storage's failures are the proxy's own, answered by <see cref="BodySpooler"/> with a retryable 503.
/// </summary>
internal sealed class RequestBodyBuffer(AccessOptions options, BodySpooler spooler)
{
    private readonly long _limit = options.Limits.MaxRequestBodyBytes;

    /// <summary>Null when the body (if any) is buffered and rewound; else the error to answer with.</summary>
    public async Task<ProxyError?> BufferAsync(HttpContext context)
    {
        var request = context.Request;

        // 1. A declared length over the limit is refused before a byte of the body is read.
        if (request.ContentLength > _limit)
        {
            return ProxyError.RequestBodyTooLarge(_limit);
        }

        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true)
        {
            return null;
        }

        // 2. Kestrel counts what it reads against this and fails the read past it: the bound for chunked bodies.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = _limit;
        }

        // 3. Read it all. A small declared body (the usual chat request) goes into an array of exactly its size: it stays
        //    alive as long as the response (minutes, for a stream), so it must not hold a 64 KB buffer. Anything else
        //    goes through a pooled 64 KB buffer, and into a temporary file once it outgrows it.
        var error = request.ContentLength is { } length and <= ClientLimits.MemoryBufferBytes
            ? await ReadSmallAsync(context, (int)length)
            : await SpoolAsync(context, request.ContentLength);
        if (error is not null)
        {
            return error;
        }

        // 4. Forward what was received with its exact length: the upstream then never sees chunked framing, and a
        //    Content-Length sent alongside Transfer-Encoding (a smuggling attempt) is replaced by the truth.
        if (request.Headers.ContainsKey(HeaderNames.TransferEncoding))
        {
            request.Headers.Remove(HeaderNames.TransferEncoding);
            request.ContentLength = request.Body.Length;
        }

        return null;
    }

    private async Task<ProxyError?> ReadSmallAsync(HttpContext context, int length)
    {
        var body = new byte[length];
        try
        {
            await context.Request.Body.ReadExactlyAsync(body, context.RequestAborted);
        }
        catch (Exception exception) when (ClientError(exception, context) is { } error)
        {
            return error;
        }

        context.Request.Body = new MemoryStream(body, writable: false);
        return null;
    }

    private async Task<ProxyError?> SpoolAsync(HttpContext context, long? declared)
    {
        var request = context.Request;
        var buffer = ArrayPool<byte>.Shared.Rent(ClientLimits.MemoryBufferBytes);
        SpooledBody? spool = null;
        try
        {
            // A declared length is reserved whole before a byte is read: it fits now, or the client hears so at once.
            ProxyError? error = null;
            if (declared is { } length && (spool = spooler.Start(context, length, ref error)) is null)
            {
                return error;
            }

            while (true)
            {
                int filled;
                try
                {
                    filled = await FillAsync(request.Body, buffer, context.RequestAborted);
                }
                catch (Exception exception) when (ClientError(exception, context) is { } clientError)
                {
                    return clientError;
                }

                var ended = filled < ClientLimits.MemoryBufferBytes;
                if (ended && spool is null)
                {
                    // A body of unknown length that fitted in memory after all: kept in an array of its own size.
                    request.Body = new MemoryStream(buffer.AsSpan(0, filled).ToArray(), writable: false);
                    return null;
                }

                spool ??= spooler.Start(context, 0, ref error);
                if (spool is null || (error = await spooler.AppendAsync(context, spool, buffer.AsMemory(0, filled))) is not null)
                {
                    return error;
                }

                if (ended)
                {
                    break;
                }
            }

            spool.Stream.Position = 0;
            request.Body = spool.Stream;
            context.Response.RegisterForDispose(spool); // deletes the file and returns its share after the response
            spool = null;
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            spool?.Dispose(); // a refused or failed body: its file goes now, and its share with it
        }
    }

    /// <summary>Reads until <paramref name="buffer"/> holds <see cref="ClientLimits.MemoryBufferBytes"/> or the body ends.</summary>
    private static async Task<int> FillAsync(Stream body, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        int read;
        while (filled < ClientLimits.MemoryBufferBytes
            && (read = await body.ReadAsync(buffer.AsMemory(filled, ClientLimits.MemoryBufferBytes - filled), cancellationToken)) > 0)
        {
            filled += read;
        }

        return filled;
    }

    /// <summary>The answer to a failed read of the client's body, or null when the failure is not the client's.</summary>
    private ProxyError? ClientError(Exception exception, HttpContext context) => exception switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => ProxyError.RequestBodyTooLarge(_limit),
        BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout } => ProxyError.RequestBodyTimeout(),
        BadHttpRequestException => ProxyError.RequestBodyInvalid(),
        // Kestrel reports some framing errors this way, such as a chunk size that overflows ("Bad chunk size data");
        // a body that ends before its Content-Length surfaces as EndOfStreamException, an IOException too.
        IOException when !context.RequestAborted.IsCancellationRequested => ProxyError.RequestBodyInvalid(),
        _ => null,
    };
}

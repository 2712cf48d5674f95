using System.IO.Pipelines;
using FcHandler.Errors;
using FcHandler.Proxy;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace FcHandler.Access;

/// <summary>
/// Receives the whole request body before anything is forwarded: a body over the limit, malformed (bad chunked
/// encoding) or stalled is answered here and the upstream never hears of it, and a slow upload never holds an upstream
/// connection. A body up to <see cref="ClientLimits.MemoryBufferBytes"/> ends in an array of its own size; a larger one
/// in a temporary file (FC's /tmp), so a 32 MB upload costs a 128 MB instance no more than 64 KB of memory; the price is
/// that the upload to the upstream starts after the client's has finished. OpenAI's request bodies are small except
/// file and audio uploads.
/// What a body holds grows with what has arrived, never with what was declared: a client that trickles its body holds
/// a few KB and no file, however large a length it announced (bench/README.md, slow clients).
/// Reading the client and writing the file are kept apart: a failed read is the client's (400, 408, 413) or means the
/// client has gone (nothing to answer; the access line says 499), while the temporary storage's failures are the
/// proxy's own, answered by <see cref="BodySpooler"/> with a retryable 503.
/// </summary>
internal sealed class RequestBodyBuffer(AccessOptions options, BodySpooler spooler)
{
    /// <summary>The smallest array a body's bytes are first copied to: one of Kestrel's blocks.</summary>
    private const int FirstCopyBytes = 4 * 1024;

    private readonly long _limit = options.Limits.MaxRequestBodyBytes;

    /// <summary>
    /// True when the body (if any) is buffered and rewound. False when the request has been answered here (an error),
    /// or the client has gone before its body was whole (the connection is aborted; there is nobody to answer).
    /// </summary>
    public async Task<bool> BufferAsync(HttpContext context)
    {
        var request = context.Request;

        // 1. A declared length over the limit is refused before a byte of the body is read.
        if (request.ContentLength > _limit)
        {
            await ErrorWriter.WriteAsync(context, ProxyError.RequestBodyTooLarge(_limit));
            return false;
        }

        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true)
        {
            return true;
        }

        // 2. Kestrel counts what it reads against this and fails the read past it: the bound for chunked bodies.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = _limit;
        }

        // 3. Read it all, straight from the server's pipe (no stream adapters: every trickled read passes here, and a
        //    failure is thrown once, not once per layer).
        var (body, error) = await ReadAsync(context, request.ContentLength);
        if (body is null)
        {
            if (error is { } answer)
            {
                await ErrorWriter.WriteAsync(context, answer);
            }
            else
            {
                // The client has gone: no answer (an empty 200 would look like success), no error blamed on its body,
                // and the access line says 499.
                context.Features.Get<ProxyExchange>()?.ClientGone = true;
                context.Abort();
            }

            return false;
        }

        request.Body = body;

        // 4. Forward what was received with its exact length: the upstream then never sees chunked framing, and a
        //    Content-Length sent alongside Transfer-Encoding (a smuggling attempt) is replaced by the truth.
        if (request.Headers.ContainsKey(HeaderNames.TransferEncoding))
        {
            request.Headers.Remove(HeaderNames.TransferEncoding);
            request.ContentLength = body.Length;
        }

        return true;
    }

    /// <summary>
    /// The body, whole and rewound; or null with the error to answer with, or null with no error when the client has
    /// gone. Bytes are copied out of Kestrel's pipe as they arrive, into an array that grows with them up to
    /// <see cref="ClientLimits.MemoryBufferBytes"/> (a declared small body: up to its length, so it ends exactly full);
    /// past that, each full array goes to the temporary file.
    /// </summary>
    private async Task<(Stream? Body, ProxyError? Error)> ReadAsync(HttpContext context, long? declared)
    {
        var reader = context.Request.BodyReader;
        var exchange = context.Features.Get<ProxyExchange>();
        var capacity = declared is { } small and <= ClientLimits.MemoryBufferBytes ? (int)small : ClientLimits.MemoryBufferBytes;
        var held = Array.Empty<byte>();
        var length = 0;
        SpooledBody? spool = null;
        ProxyError? error = null;
        try
        {
            // A declared length over the memory buffer is reserved whole before a byte is read: it fits now, or the
            // client hears so at once. Its file comes with the first full buffer.
            if (declared > ClientLimits.MemoryBufferBytes && (spool = spooler.Start(context, declared.Value, out error)) is null)
            {
                return (null, error);
            }

            while (true)
            {
                ReadResult result;
                try
                {
                    result = await reader.ReadAsync(context.RequestAborted);
                }
                catch (Exception exception) when (IsClientFailure(exception))
                {
                    return (null, ClientError(exception, context));
                }

                var buffer = result.Buffer;
                exchange?.RequestBodyBytes += buffer.Length;
                try
                {
                    foreach (var segment in buffer)
                    {
                        var rest = segment;
                        while (!rest.IsEmpty)
                        {
                            if (length == capacity)
                            {
                                // Full, with more to come: to the file, and the array starts over.
                                spool ??= spooler.Start(context, 0, out error);
                                if (spool is null || (error = await spooler.AppendAsync(context, spool, held.AsMemory(0, length))) is not null)
                                {
                                    return (null, error);
                                }

                                length = 0;
                            }

                            held = Grown(held, length, Math.Min(capacity, length + rest.Length), capacity);
                            var copied = Math.Min(rest.Length, capacity - length);
                            rest[..copied].CopyTo(held.AsMemory(length));
                            length += copied;
                            rest = rest[copied..];
                        }
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.End); // all of it is copied, or none of it is wanted any more
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }

            if (spool is null)
            {
                // The whole body in memory, in an array of its own size: it stays alive as long as the response
                // (minutes, for a stream), so it must not hold a 64 KB buffer.
                return (new MemoryStream(length == held.Length ? held : held[..length], writable: false), null);
            }

            if (length > 0 && (error = await spooler.AppendAsync(context, spool, held.AsMemory(0, length))) is not null)
            {
                return (null, error);
            }

            var file = spool.Stream;
            file.Position = 0;
            context.Response.RegisterForDispose(spool); // deletes the file and returns its share after the response
            spool = null;
            return (file, null);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return (null, null); // gone while its body was being written to the file
        }
        finally
        {
            spool?.Dispose(); // a refused or failed body: its file goes now, and its share with it
        }
    }

    /// <summary>
    /// <paramref name="held"/>, or a larger copy of its first <paramref name="length"/> bytes when it cannot hold
    /// <paramref name="needed"/>: twice its size (at least <see cref="FirstCopyBytes"/>) and no more than
    /// <paramref name="capacity"/>, so a declared body's array ends exactly full.
    /// </summary>
    private static byte[] Grown(byte[] held, int length, int needed, int capacity)
    {
        if (needed <= held.Length)
        {
            return held;
        }

        var grown = new byte[Math.Max(needed, Math.Min(Math.Max(held.Length * 2, FirstCopyBytes), capacity))];
        held.AsSpan(0, length).CopyTo(grown);
        return grown;
    }

    private static bool IsClientFailure(Exception exception) => exception is BadHttpRequestException or IOException or OperationCanceledException;

    /// <summary>
    /// The answer to a failed read of the client's body, or null when the client has gone: its connection was reset,
    /// aborted or closed before the body was whole. Kestrel reports a connection closed mid-body as a bad request
    /// ("unexpected end of request content"); that is a client that left, not a malformed body.
    /// </summary>
    private ProxyError? ClientError(Exception exception, HttpContext context) => exception switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => ProxyError.RequestBodyTooLarge(_limit),
        BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout } => ProxyError.RequestBodyTimeout(),
        _ when ClientConnection.HasEnded(context, exception) => null,
        // Malformed chunked framing; Kestrel reports some of it as an IOException, such as a chunk size that overflows.
        _ => ProxyError.RequestBodyInvalid(),
    };
}

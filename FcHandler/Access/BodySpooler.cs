using FcHandler.Errors;
using FcHandler.Logging;

namespace FcHandler.Access;

/// <summary>
/// Writes request bodies to temporary files within the shared <see cref="TempStorage"/> budget, and answers its
/// failures as the proxy's own: a body that does not fit what is left, and a file that cannot be created or written
/// (no space left, an I/O error, a directory that has gone), get 503 <c>temp_storage_full</c> with Retry-After and
/// one log line saying why, never a stack trace and never a 400 that blames the client.
/// </summary>
internal sealed class BodySpooler(TempStorage storage, ILogger<BodySpooler> logger)
{
    /// <summary>A new spool holding <paramref name="reserve"/> bytes of the budget (its file comes with its first write); null, with <paramref name="error"/> set, when there is no room.</summary>
    public SpooledBody? Start(HttpContext context, long reserve, out ProxyError? error)
    {
        var spool = SpooledBody.TryReserve(storage, reserve);
        error = spool is null ? Refused(context, reserve) : null;
        return spool;
    }

    /// <summary>Appends <paramref name="data"/>; the error to answer with when the budget or the disk has no room for it.</summary>
    public async Task<ProxyError?> AppendAsync(HttpContext context, SpooledBody spool, ReadOnlyMemory<byte> data)
    {
        try
        {
            return await spool.TryAppendAsync(data, context.RequestAborted)
                ? null
                : Refused(context, spool.Length + data.Length);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return Failed(context, exception);
        }
    }

    private ProxyError Refused(HttpContext context, long bodyBytes)
    {
        ProxyLog.TempStorageExhausted(logger, bodyBytes, storage.BudgetBytes - storage.ReservedBytes, storage.BudgetBytes, context.TraceIdentifier);
        return ProxyError.TempStorageFull();
    }

    private ProxyError Failed(HttpContext context, Exception exception)
    {
        ProxyLog.TempStorageFailed(logger, storage.Directory, exception.GetType().Name, exception.Message, context.TraceIdentifier);
        return ProxyError.TempStorageFull();
    }
}

namespace FcHandler.Fc;

/// <summary>
/// Work FC's initializer hook does before the instance's first request, so that request does not pay for it: the
/// upstream's connection, the limits store's. Each runs beside the others, bounded by <c>WARMUP_TIMEOUT</c>, and must
/// not throw: the initializer answers whether or not the work succeeded, and the log says which.
/// https://alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/lifecycle-hooks-for-function-instances-6-1
/// </summary>
internal interface IInstanceInitializer
{
    Task InitializeAsync(TimeSpan timeout, CancellationToken cancellationToken);
}

namespace FcHandler.Fc;

/// <summary>
/// Counts the requests in progress so the pre-stop hook can wait for running streams, and refuses new work once
/// draining has begun.
/// </summary>
internal sealed class InFlightRequests
{
    private readonly object _gate = new();
    private int _count;
    private bool _draining;
    private TaskCompletionSource? _idle;

    public int Count => Volatile.Read(ref _count);

    public bool IsDraining => Volatile.Read(ref _draining);

    /// <summary>Registers a request; false once draining has begun.</summary>
    public bool TryEnter()
    {
        lock (_gate)
        {
            if (_draining)
            {
                return false;
            }

            _count++;
            return true;
        }
    }

    public void Exit()
    {
        lock (_gate)
        {
            if (--_count == 0)
            {
                _idle?.TrySetResult();
            }
        }
    }

    /// <summary>Stops admitting requests; from its return on, <see cref="TryEnter"/> refuses.</summary>
    /// <returns>The number of requests in progress.</returns>
    public int StopAdmitting()
    {
        lock (_gate)
        {
            _draining = true;
            return _count;
        }
    }

    /// <summary>Stops admitting requests and waits until those in progress finish, or the timeout passes.</summary>
    /// <returns>The number of requests still running when it returned.</returns>
    public async Task<int> DrainAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task idle;
        lock (_gate)
        {
            _draining = true;
            if (_count == 0)
            {
                return 0;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            idle = _idle.Task;
        }

        try
        {
            await idle.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // FC stops the instance anyway; say how many streams it will cut.
        }

        return Count;
    }
}

namespace FcHandler.Fc;

/// <summary>
/// Counts the requests in progress so the pre-stop hook can wait for running streams, refuses new work once
/// draining has begun, and tells <see cref="IdleMemoryTrim"/> when the instance has gone quiet.
/// </summary>
internal sealed class InFlightRequests
{
    private readonly object _gate = new();
    private int _count;
    private long _admitted;
    private bool _draining;
    private TaskCompletionSource? _idle;

    public int Count => Volatile.Read(ref _count);

    /// <summary>How many requests have been admitted since start-up; a change means the instance was not idle.</summary>
    public long Admitted => Interlocked.Read(ref _admitted);

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
            _admitted++;
            return true;
        }
    }

    public void Exit()
    {
        lock (_gate)
        {
            if (--_count == 0 && _idle is { } idle)
            {
                _idle = null;
                idle.TrySetResult();
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

    /// <summary>
    /// Completes when no request is in progress and at least one has been admitted after the
    /// <paramref name="admitted"/> count was read (see <see cref="Admitted"/>): the end of the next busy spell.
    /// </summary>
    public Task WhenIdleAfter(long admitted)
    {
        lock (_gate)
        {
            return _count == 0 && _admitted > admitted ? Task.CompletedTask : IdleTask();
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

            idle = IdleTask();
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

    // Completed, and forgotten, when the count next reaches zero; the caller holds _gate.
    private Task IdleTask() => (_idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
}

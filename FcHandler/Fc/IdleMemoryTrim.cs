using FcHandler.Logging;

namespace FcHandler.Fc;

/// <summary>
/// Gives the memory of a busy spell back once the instance has been quiet for <see cref="FcOptions.IdleTrimAfter"/>.
/// The garbage collector runs when the proxy allocates, not on a clock: after a few hundred streams it keeps tens of
/// megabytes committed for as long as the instance idles, headroom that a 128 MB instance's next burst lacks and a
/// figure in the operator's monitoring that looks like a leak. One full compacting collection while nothing runs gives
/// it back for a few milliseconds of CPU that no request waits for.
/// </summary>
/// <remarks>
/// It collects only when the heap has grown by <see cref="GrowthThresholdBytes"/> since the last time, so an idle or
/// lightly used instance pays nothing. It skips a wait that overslept: FC freezes an instance that has no request
/// (https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/instance-types-and-usage-modes), so a
/// timer that fires long after it was due fires after a thaw, in a race with the request that woke the instance.
/// </remarks>
internal sealed class IdleMemoryTrim(
    InFlightRequests inFlight,
    FcOptions options,
    IManagedHeap heap,
    TimeProvider time,
    ILogger<IdleMemoryTrim> logger) : BackgroundService
{
    /// <summary>How much the committed heap must have grown since the last trim (or start-up) for a collection: 8 MB.</summary>
    public const long GrowthThresholdBytes = 8L << 20;

    // A timer on a running instance is late by milliseconds; one a second late was frozen.
    private static readonly TimeSpan OversleepAllowance = TimeSpan.FromSeconds(1);

    private long _admittedMark;
    private long _floorBytes = heap.CommittedBytes; // start-up's heap: growth is measured from it

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.IdleTrimAfter is null)
        {
            return;
        }

        try
        {
            while (true)
            {
                await TrimWhenIdleAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    /// <summary>
    /// Waits for the end of the next busy spell, then for the quiet period, and trims if the instance stayed idle.
    /// </summary>
    internal async Task<IdleTrimOutcome> TrimWhenIdleAsync(CancellationToken cancellationToken)
    {
        var quiet = options.IdleTrimAfter ?? throw new InvalidOperationException("IDLE_TRIM_AFTER is off.");
        await inFlight.WhenIdleAfter(_admittedMark).WaitAsync(cancellationToken).ConfigureAwait(false);
        var mark = inFlight.Admitted;
        var waitStarted = time.GetTimestamp();
        await Task.Delay(quiet, time, cancellationToken).ConfigureAwait(false);

        if (inFlight.Count > 0 || inFlight.Admitted != mark)
        {
            return IdleTrimOutcome.Busy;
        }

        _admittedMark = mark;
        if (time.GetElapsedTime(waitStarted) > quiet + OversleepAllowance)
        {
            return IdleTrimOutcome.Overslept;
        }

        var before = heap.CommittedBytes;
        if (before < _floorBytes + GrowthThresholdBytes)
        {
            _floorBytes = Math.Min(_floorBytes, before);
            return IdleTrimOutcome.BelowThreshold;
        }

        var started = time.GetTimestamp();
        heap.Compact();
        var after = heap.CommittedBytes;
        _floorBytes = after;
        ProxyLog.IdleTrimmed(logger, quiet.TotalSeconds, ToMb(before), ToMb(after), Math.Round(time.GetElapsedTime(started).TotalMilliseconds, 1));
        return IdleTrimOutcome.Compacted;
    }

    private static double ToMb(long bytes) => Math.Round(bytes / 1048576.0, 1);
}

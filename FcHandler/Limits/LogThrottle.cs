namespace FcHandler.Limits;

/// <summary>
/// Lets a repeated warning through once per period and counts the ones held back, so a store that flaps or stays down
/// under load writes a line a minute that says how often it happened, not a line per request.
/// </summary>
internal sealed class LogThrottle(TimeProvider time, TimeSpan period)
{
    private readonly Lock _lock = new();
    private long _last = long.MinValue;
    private long _held;

    /// <summary>True when the line should be written now; <paramref name="heldBack"/> is how many were not since the last.</summary>
    public bool TryWrite(out long heldBack)
    {
        lock (_lock)
        {
            var now = time.GetTimestamp();
            if (_last != long.MinValue && time.GetElapsedTime(_last, now) < period)
            {
                _held++;
                heldBack = 0;
                return false;
            }

            _last = now;
            heldBack = _held;
            _held = 0;
            return true;
        }
    }
}

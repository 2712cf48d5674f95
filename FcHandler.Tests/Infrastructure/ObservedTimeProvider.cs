using Microsoft.Extensions.Time.Testing;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that tells when code under test has created a timer (a <c>Task.Delay</c> on
/// it), so a test advances the clock only once the wait exists, with no sleep.
/// </summary>
public sealed class ObservedTimeProvider : FakeTimeProvider
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _created = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the next timer is created after this call.</summary>
    public Task NextTimer()
    {
        lock (_gate)
        {
            return _created.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        TaskCompletionSource created;
        lock (_gate)
        {
            created = _created;
            _created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        created.TrySetResult();
        return timer;
    }
}

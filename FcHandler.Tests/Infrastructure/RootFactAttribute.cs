namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// A fact that needs root (to mount a tmpfs). CI runs as root on Debian; elsewhere the test is reported as skipped
/// with the reason, never passed silently. Tests that need no mount cover the same code paths.
/// </summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Skip = "Needs root to mount a small tmpfs (CI runs as root); the budget-based tests cover the same path without it.";
        }
    }
}

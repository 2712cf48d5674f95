using System.Globalization;

namespace FcHandler.Tests.Infrastructure.FcGateway;

/// <summary>
/// The clock of a <see cref="ProxyProcess"/>, moved by libfaketime (Debian's <c>faketime</c> package, preloaded into
/// the process): <see cref="Advance"/> puts the process's wall clock and its monotonic clock (Kestrel's heartbeat, every
/// timer) that much ahead at once, as a thaw after a long freeze does. Kestrel's clock cannot be injected (its
/// heartbeat reads <see cref="TimeProvider.System"/> inside Kestrel), so this is how a test shows what 20 minutes
/// of idle do to it without waiting 20 minutes. The offset is re-read on every clock call (FAKETIME_NO_CACHE).
/// </summary>
public sealed class FakeClock : IDisposable
{
    /// <summary>Where Debian installs the multi-threaded library.</summary>
    public const string Library = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

    private readonly string _file = Path.Combine(Path.GetTempPath(), $"fchandler-clock-{Guid.NewGuid():N}");
    private TimeSpan _offset;

    public FakeClock() => Write();

    public static bool IsAvailable => File.Exists(Library);

    /// <summary>How far ahead of real time the process's clocks are.</summary>
    public TimeSpan Offset => _offset;

    /// <summary>The environment that makes a process read this clock.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["LD_PRELOAD"] = Library,
        ["FAKETIME_TIMESTAMP_FILE"] = _file,
        ["FAKETIME_NO_CACHE"] = "1",
    };

    public void Advance(TimeSpan by)
    {
        _offset += by;
        Write();
    }

    private void Write()
    {
        // Written whole and renamed, so the process never reads half an offset.
        var staging = _file + ".new";
        File.WriteAllText(staging, "+" + ((long)_offset.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "\n");
        File.Move(staging, _file, overwrite: true);
    }

    public void Dispose() => File.Delete(_file);
}

/// <summary>A fact that needs libfaketime; skipped with the reason where it is missing, failed where CI requires it.</summary>
public sealed class FakeClockFactAttribute : FactAttribute
{
    public FakeClockFactAttribute()
    {
        if (!FakeClock.IsAvailable && System.Environment.GetEnvironmentVariable("FCHANDLER_REQUIRE_FAKETIME") != "1")
        {
            Skip = $"Needs libfaketime ({FakeClock.Library}, Debian package faketime; CI installs it).";
        }
    }
}

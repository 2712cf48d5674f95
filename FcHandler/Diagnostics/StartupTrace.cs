using System.Diagnostics;
using System.Globalization;
using System.Text;
using FcHandler.Hosting;

namespace FcHandler.Diagnostics;

/// <summary>
/// Start-up milestones, for profiling a cold start phase by phase under FC's quota (bench/fc_startup.py): with
/// <c>FCHANDLER_STARTUP_TRACE=1</c>, one line per milestone on stderr, <c>startup-trace NAME MONOTONIC_NS CPU_US GCS</c>:
/// the monotonic clock a profiler outside the process reads too (CLOCK_MONOTONIC), and the CPU the process has used so
/// far, and the garbage collections so far (gen0/gen1/gen2). Off (the default), a milestone costs one check of a flag read once.
/// </summary>
internal static class StartupTrace
{
    // Read from the environment itself, not the configuration: the first milestone is before there is one.
    private static readonly Stream? Output = Environment.GetEnvironmentVariable(ConfigKeys.StartupTrace) == "1" ? Console.OpenStandardError() : null;

    public static void Mark(string milestone)
    {
        if (Output is null)
        {
            return;
        }

        // Stopwatch's timestamp is CLOCK_MONOTONIC in nanoseconds on Linux.
        var nanoseconds = Stopwatch.GetTimestamp() * (1_000_000_000 / Stopwatch.Frequency);
        var cpuMicroseconds = (long)Environment.CpuUsage.TotalTime.TotalMicroseconds;
        var line = string.Create(CultureInfo.InvariantCulture, $"startup-trace {milestone} {nanoseconds} {cpuMicroseconds} {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}\n");
        lock (Output)
        {
            Output.Write(Encoding.ASCII.GetBytes(line));
            Output.Flush();
        }
    }
}

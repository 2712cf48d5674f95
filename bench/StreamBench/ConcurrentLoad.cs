using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace StreamBench;

/// <summary>
/// What both clients do around their one stream or session: <see cref="Options.Streams"/> of them opened at once,
/// spread over <see cref="Options.RampMs"/>, each bounded by <see cref="Options.TimeoutMs"/>; what each one measured
/// (its first figure, and its per-event delays) gathered, its exception counted as an error. Writes one JSON object:
/// <c>{"COUNT":N,"ok":..,"errors":..,"error_samples":[..],"FIRST":[..],"delay_us":[..]}</c>, samples in microseconds.
/// </summary>
internal static class ConcurrentLoad
{
    /// <param name="countName">The JSON name of how many were opened (<c>streams</c>, <c>sessions</c>).</param>
    /// <param name="firstName">The JSON name of each one's first figure (<c>ttfe_us</c>, <c>handshake_us</c>).</param>
    /// <param name="one">Runs one: its first figure and delays, both in microseconds; throws if it broke.</param>
    public static async Task<int> RunAsync(
        Options options, string countName, string firstName, Func<CancellationToken, Task<(double First, double[] Delays)>> one)
    {
        var firsts = new ConcurrentBag<double>();
        var delays = new ConcurrentBag<double[]>();
        var errors = new ConcurrentQueue<string>();
        var tasks = new Task[options.Streams];
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < options.Streams; i++)
        {
            var offset = TimeSpan.FromMilliseconds((double)i * options.RampMs / options.Streams);
            tasks[i] = Task.Run(async () =>
            {
                var due = offset - Stopwatch.GetElapsedTime(started);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }

                using var timeout = new CancellationTokenSource(options.TimeoutMs);
                try
                {
                    var (first, samples) = await one(timeout.Token);
                    firsts.Add(first);
                    delays.Add(samples);
                }
                catch (Exception exception)
                {
                    errors.Enqueue(exception.GetType().Name + ": " + exception.Message);
                }
            });
        }

        await Task.WhenAll(tasks);

        var json = new StringBuilder();
        json.Append("{\"").Append(countName).Append("\":").Append(options.Streams)
            .Append(",\"ok\":").Append(firsts.Count)
            .Append(",\"errors\":").Append(errors.Count)
            .Append(",\"error_samples\":[")
            .AppendJoin(',', errors.Take(5).Select(e => "\"" + e.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "'", StringComparison.Ordinal) + "\""))
            .Append("],\"").Append(firstName).Append("\":[").AppendJoin(',', firsts.Select(F))
            .Append("],\"delay_us\":[").AppendJoin(',', delays.SelectMany(d => d).Select(F))
            .Append("]}");
        if (options.Out == "-")
        {
            Console.WriteLine(json);
        }
        else
        {
            await File.WriteAllTextAsync(options.Out, json.ToString());
        }

        Console.Error.WriteLine($"{countName}={options.Streams} ok={firsts.Count} errors={errors.Count} {string.Join(" | ", errors.Take(3))}");
        return 0;
    }

    private static string F(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);
}

using System.Collections.Concurrent;
using System.Diagnostics;

namespace StreamBench;

/// <summary>
/// What both clients do around their one stream or session: <see cref="Options.Streams"/> of them opened at once,
/// spread over <see cref="Options.RampMs"/>, each bounded by <see cref="Options.TimeoutMs"/>; what each one measured
/// (its first figure, and its per-event delays) gathered, its exception counted as an error. Writes one JSON object:
/// <c>{"COUNT":N,"ok":..,"errors":..,"error_samples":[..],"FIRST":[..],"delay_us":[..],...,"summary":{..}}</c>, samples in
/// microseconds, then what the client adds (<see cref="LoadReport"/>), then the summary of each in milliseconds.
/// </summary>
internal static class ConcurrentLoad
{
    /// <param name="countName">The JSON name of how many were opened (<c>streams</c>, <c>sessions</c>).</param>
    /// <param name="firstName">The JSON name of each one's first figure (<c>ttfe_us</c>, <c>handshake_us</c>).</param>
    /// <param name="one">Runs the one of this index; throws if it broke.</param>
    /// <param name="figures">One's first figure (null: not a sample of it) and delays, both in microseconds.</param>
    /// <param name="more">Adds the client's own fields, from every one that completed, in one order.</param>
    public static async Task<int> RunAsync<T>(
        Options options, string countName, string firstName, Func<int, CancellationToken, Task<T>> one,
        Func<T, (double? First, double[] Delays)> figures, Action<LoadReport, IReadOnlyList<T>>? more = null)
    {
        var completed = new ConcurrentQueue<T>();
        var errors = new ConcurrentQueue<string>();
        var tasks = new Task[options.Streams];
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < options.Streams; i++)
        {
            var index = i;
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
                    completed.Enqueue(await one(index, timeout.Token));
                }
                catch (Exception exception)
                {
                    errors.Enqueue(exception.GetType().Name + ": " + exception.Message);
                }
            });
        }

        await Task.WhenAll(tasks);

        var outcomes = completed.ToArray();
        var measured = outcomes.Select(figures).ToArray();
        var report = new LoadReport();
        report.Count(countName, options.Streams);
        report.Count("ok", outcomes.Length);
        report.Count("errors", errors.Count);
        report.Strings("error_samples", errors.Take(5));
        report.Samples(firstName, measured.Where(m => m.First is not null).Select(m => m.First!.Value));
        report.Samples("delay_us", measured.SelectMany(m => m.Delays));
        more?.Invoke(report, outcomes);
        var json = report.ToJson();
        if (options.Out == "-")
        {
            Console.WriteLine(json);
        }
        else
        {
            await File.WriteAllTextAsync(options.Out, json);
        }

        Console.Error.WriteLine($"{countName}={options.Streams} ok={outcomes.Length} errors={errors.Count} {string.Join(" | ", errors.Take(3))}");
        return 0;
    }
}

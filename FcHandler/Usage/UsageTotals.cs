using System.Globalization;

namespace FcHandler.Usage;

/// <summary>
/// Tokens per day, subject (or the server's key that served, <c>--by key</c>) and model, summed from access records of
/// generation requests and Realtime sessions.
/// </summary>
internal sealed class UsageTotals
{
    private static readonly string[] Counts =
        ["requests", "input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens", "total_tokens", "seconds"];

    private readonly SortedDictionary<(string Day, string Subject, string Model), Sum> _sums = new(Comparer<(string Day, string Subject, string Model)>.Create(
        static (a, b) => (string.CompareOrdinal(a.Day, b.Day), string.CompareOrdinal(a.Subject, b.Subject)) switch
        {
            (not 0 and var day, _) => day,
            (_, not 0 and var subject) => subject,
            _ => string.CompareOrdinal(a.Model, b.Model),
        }));
    private readonly TimeSpan _utcOffset;
    private readonly string[] _columns;
    private readonly bool _byKey;

    /// <param name="utcOffset">Where days start.</param>
    /// <param name="byKey">Group by the key that served (the access line's <c>key</c>) instead of the subject.</param>
    public UsageTotals(TimeSpan utcOffset, bool byKey = false)
    {
        _utcOffset = utcOffset;
        _byKey = byKey;
        _columns = ["day", byKey ? "key" : "subject", "model", .. Counts];
    }

    public int Requests { get; private set; }

    /// <summary>
    /// Counts a generation request, and a Realtime session that reported usage (its route also serves client secrets
    /// and calls, which report none); other routes (models, files) carry no usage.
    /// </summary>
    public void Add(AccessRecord record)
    {
        if (record.Route != "generation" && (record.Route != "realtime" || record.Usage.IsEmpty))
        {
            return;
        }

        var day = record.Time.ToOffset(_utcOffset).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var key = (day, _byKey ? record.Key : record.Subject, record.Model);
        if (!_sums.TryGetValue(key, out var sum))
        {
            _sums[key] = sum = new Sum();
        }

        sum.Add(record.Usage);
        Requests++;
    }

    public void Write(TextWriter output, bool csv)
    {
        var total = new Sum();
        var rows = new List<string[]> { _columns };
        foreach (var ((day, subject, model), sum) in _sums)
        {
            rows.Add([day, subject, model, .. sum.Cells()]);
            total.Add(sum);
        }

        if (csv)
        {
            foreach (var row in rows)
            {
                output.WriteLine(string.Join(',', row.Select(Csv)));
            }

            return;
        }

        rows.Add(["total", "", "", .. total.Cells()]);
        var widths = Enumerable.Range(0, _columns.Length).Select(column => rows.Max(row => row[column].Length)).ToArray();
        foreach (var row in rows)
        {
            // Text left, numbers right.
            output.WriteLine(string.Join("  ", row.Select((cell, column) => column < 3 ? cell.PadRight(widths[column]) : cell.PadLeft(widths[column]))).TrimEnd());
        }
    }

    private static string Csv(string cell) => cell.AsSpan().IndexOfAny(",\"\n") < 0 ? cell : "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private sealed class Sum
    {
        private long _requests;
        private long _input;
        private long _cached;
        private long _output;
        private long _reasoning;
        private long _total;
        private double _seconds;

        public void Add(TokenUsage usage)
        {
            _requests++;
            _input += usage.InputTokens ?? 0;
            _cached += usage.CachedTokens ?? 0;
            _output += usage.OutputTokens ?? 0;
            _reasoning += usage.ReasoningTokens ?? 0;
            _total += usage.TotalTokens ?? (usage.InputTokens ?? 0) + (usage.OutputTokens ?? 0);
            _seconds += usage.Seconds ?? 0;
        }

        public void Add(Sum other)
        {
            _requests += other._requests;
            _input += other._input;
            _cached += other._cached;
            _output += other._output;
            _reasoning += other._reasoning;
            _total += other._total;
            _seconds += other._seconds;
        }

        public string[] Cells() =>
        [
            .. new[] { _requests, _input, _cached, _output, _reasoning, _total }.Select(n => n.ToString(CultureInfo.InvariantCulture)),
            _seconds.ToString("0.#", CultureInfo.InvariantCulture),
        ];
    }
}

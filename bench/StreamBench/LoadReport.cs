using System.Globalization;
using System.Text;

namespace StreamBench;

/// <summary>
/// The client's one JSON object, written field by field: counts, a few strings, and samples in microseconds as raw
/// arrays (<c>NAME_us</c>, for a runner to pool over rounds), each summarised at the end under <c>"summary"</c> as
/// <c>"NAME_ms":{"count":N,"p50":..,"p99":..,"max":..}</c> in milliseconds (null without samples). A percentile is the
/// sample at rank round(p/100 * (n-1)) of the sorted samples, as bench/harness.py's <c>pct</c> takes it.
/// </summary>
internal sealed class LoadReport
{
    private readonly StringBuilder _json = new("{");
    private readonly StringBuilder _summary = new();

    public void Count(string name, long value) => Field(name).Append(value);

    public void Strings(string name, IEnumerable<string> values)
        => Field(name).Append('[').AppendJoin(',', values.Select(v =>
            "\"" + v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "'", StringComparison.Ordinal) + "\"")).Append(']');

    public void Integers(string name, IEnumerable<int> values) => Field(name).Append('[').AppendJoin(',', values).Append(']');

    /// <summary>Raw samples under <paramref name="name"/> (ending in <c>_us</c>), and their summary.</summary>
    public void Samples(string name, IEnumerable<double> micros)
    {
        var values = micros.ToArray();
        Field(name).Append('[').AppendJoin(',', values.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture))).Append(']');
        Summary(name.EndsWith("_us", StringComparison.Ordinal) ? name[..^3] + "_ms" : name + "_ms", values);
    }

    /// <summary>A summary only, of samples not written raw (a subset of another field's).</summary>
    public void Summary(string name, IReadOnlyList<double> micros)
    {
        _summary.Append(_summary.Length == 0 ? "" : ",").Append('"').Append(name).Append("\":");
        if (micros.Count == 0)
        {
            _summary.Append("null");
            return;
        }

        var sorted = micros.Order().ToArray();
        _summary.Append("{\"count\":").Append(sorted.Length)
            .Append(",\"p50\":").Append(Ms(Percentile(sorted, 50)))
            .Append(",\"p99\":").Append(Ms(Percentile(sorted, 99)))
            .Append(",\"max\":").Append(Ms(sorted[^1])).Append('}');
    }

    public string ToJson() => _json.ToString() + ",\"summary\":{" + _summary + "}}";

    private static double Percentile(double[] sorted, double p)
        => sorted[Math.Min(sorted.Length - 1, (int)Math.Round(p / 100 * (sorted.Length - 1)))];

    private static string Ms(double micros) => (micros / 1000).ToString("0.###", CultureInfo.InvariantCulture);

    private StringBuilder Field(string name) => _json.Append(_json.Length == 1 ? "" : ",").Append('"').Append(name).Append("\":");
}

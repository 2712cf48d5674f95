using System.Globalization;

namespace FcHandler.Usage;

/// <summary>
/// <c>FcHandler usage [--csv] [--utc-offset +08:00] [--by key]</c>: reads log lines on stdin (what <c>s logs</c> prints, or an
/// export of the log store) and prints the tokens of generation requests per day, subject (or key) and model, from the access
/// lines <c>LOG_FORMAT=json</c> writes. Other lines are skipped and counted on stderr. No database: the log is the
/// record. Exit codes: 0 totals printed, 1 no access line of a generation request found, 2 bad arguments.
/// </summary>
internal static class UsageCommand
{
    public const string Usage =
        "usage: FcHandler usage [--csv] [--utc-offset +08:00] [--by key] < log.jsonl\n" +
        "  Reads JSON log lines (s logs output, or an export) on stdin; prints tokens per day, subject (or the server's key) and model.";

    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter errors)
    {
        if (ReadOptions(args) is not var (csv, offset, byKey))
        {
            await errors.WriteLineAsync(Usage);
            return 2;
        }

        var totals = new UsageTotals(offset, byKey);
        long lines = 0, accessLines = 0;
        while (await input.ReadLineAsync() is { } line)
        {
            lines++;
            if (AccessRecord.Parse(line) is { } record)
            {
                accessLines++;
                totals.Add(record);
            }
        }

        await errors.WriteLineAsync(
            $"read {lines} lines: {accessLines} access lines, {totals.Requests} of generation requests, {lines - accessLines} other lines skipped");
        if (totals.Requests == 0)
        {
            await errors.WriteLineAsync("no access line of a generation request: the proxy writes them with LOG_FORMAT=json (the default in FC)");
            return 1;
        }

        totals.Write(output, csv);
        await output.FlushAsync();
        return 0;
    }

    private static (bool Csv, TimeSpan Offset, bool ByKey)? ReadOptions(string[] args)
    {
        var csv = false;
        var byKey = false;
        var offset = TimeSpan.Zero;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--csv":
                    csv = true;
                    break;
                case "--by" when i + 1 < args.Length && args[i + 1] is "key" or "subject":
                    byKey = args[++i] == "key";
                    break;
                case "--utc-offset" when i + 1 < args.Length && ParseOffset(args[++i]) is { } value:
                    offset = value;
                    break;
                default:
                    return null;
            }
        }

        return (csv, offset, byKey);
    }

    // +08:00, -05:00, +00:00: whole minutes, within a day.
    private static TimeSpan? ParseOffset(string text)
        => text.Length == 6 && text[0] is '+' or '-'
            && TimeSpan.TryParseExact(text.AsSpan(1), @"hh\:mm", CultureInfo.InvariantCulture, out var value) && value <= TimeSpan.FromHours(14)
            ? text[0] == '-' ? -value : value
            : null;
}

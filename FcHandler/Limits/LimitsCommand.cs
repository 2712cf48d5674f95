using System.Globalization;
using System.Text;
using FcHandler.Access;
using FcHandler.Hosting;

namespace FcHandler.Limits;

/// <summary>
/// <c>limits show &lt;subject | token | -&gt;</c>: a subject's windows, open requests and budget, read from the shared
/// store (<c>LIMITS_STORE</c>) without changing them, under the limits the proxy would hold it to: a token's own claim,
/// else <c>LIMITS_BY_SUBJECT</c>, else <c>LIMITS_DEFAULT</c>. A signed token names its subject (its signature checked
/// with <c>PROXY_TOKEN_SECRET</c> when that is set) and says whether it is revoked; <c>-</c> reads a token or a client's
/// OpenAI key from stdin, so neither lands in the shell's history; a key is shown as its <c>key-...</c> subject.
/// </summary>
internal static class LimitsCommand
{
    public const string Usage =
        "usage: limits show <subject | token | ->\n" +
        "  A subject (alice, static-1, key-...), a signed token, or - to read a token or a client's key from stdin. Reads LIMITS_STORE.";

    public static Task<int> RunAsync(string[] args)
        => RunAsync(args, new ConfigurationBuilder().AddEnvironmentVariables().Build(), Console.In, Console.Out, Console.Error);

    public static async Task<int> RunAsync(string[] args, IConfiguration configuration, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (args is not ["show", var target] || target.Length == 0)
        {
            await stderr.WriteLineAsync(Usage);
            return 2;
        }

        try
        {
            var options = LimitsOptionsReader.Read(configuration);
            if (target == "-")
            {
                target = (await stdin.ReadLineAsync())?.Trim() ?? "";
            }

            var who = Identify(target, configuration, options);
            if (who is null)
            {
                await stderr.WriteLineAsync("limits show: not a subject, a signed token or a key; a subject is 1 to 64 letters, digits or ._@:-.");
                return 2;
            }

            var (store, connection, exit) = await StoreCommandConnection.OpenAsync("limits show", options, configuration, stderr);
            if (store is null)
            {
                return exit;
            }

            await using (connection)
            {
                var (subject, limits, source, tokenId, note) = who.Value;
                var report = new StringBuilder();
                report.Append(CultureInfo.InvariantCulture, $"subject {subject}: {limits?.Text ?? "no limits"} ({source})");
                report.AppendLine(note is null ? "" : $"; {note}");
                if (tokenId is not null)
                {
                    var revoked = await store.ReadRevocationsAsync(-1, CancellationToken.None).WaitAsync(RedisConnection.ConnectTimeout);
                    report.AppendLine(CultureInfo.InvariantCulture,
                        $"token {tokenId}: {(revoked.Ids!.Contains(tokenId) || options.RevokedIdsFrom(configuration).Contains(tokenId) ? "revoked" : "not revoked")}");
                }

                if (limits is { IsNone: false })
                {
                    var rules = await store.ShowAsync(subject, limits.Rules, CancellationToken.None).WaitAsync(RedisConnection.ConnectTimeout);
                    foreach (var rule in rules)
                    {
                        Describe(report, rule);
                    }
                }

                await stdout.WriteAsync(report.ToString());
                return 0;
            }
        }
        catch (ConfigurationException exception)
        {
            await stderr.WriteLineAsync($"limits show: {exception.Message}");
            return 2;
        }
        catch (Exception exception) when (exception is StackExchange.Redis.RedisException or TimeoutException)
        {
            await stderr.WriteLineAsync($"limits show: the limits store did not answer ({exception.GetType().Name}).");
            return 1;
        }
    }

    private static (string Subject, LimitSet? Limits, string Source, string? TokenId, string? Note)? Identify(
        string target, IConfiguration configuration, LimitsOptions options)
    {
        if (target.StartsWith(SignedToken.Prefix, StringComparison.Ordinal))
        {
            var secret = AccessOptionsReader.ReadSecret(configuration[ConfigKeys.ProxyTokenSecret], ConfigKeys.ProxyTokenSecret);
            var payload = secret is null ? SignedToken.ReadUnverified(target) : SignedToken.Verify(target, secret);
            if (payload is null)
            {
                return null;
            }

            var note = secret is null ? $"signature not checked ({ConfigKeys.ProxyTokenSecret} is not set)" : null;
            var claimed = LimitSet.TryParse(payload.Limits);
            return claimed is not null
                ? (payload.Sub, claimed, "the token's own", payload.Jti, note)
                : (payload.Sub, options.For(payload.Sub), Source(options, payload.Sub), payload.Jti, note);
        }

        var staticTokens = (configuration[ConfigKeys.ProxyAccessTokens] ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var position = Array.IndexOf(staticTokens, target);
        var subject = position >= 0 ? $"static-{position + 1}"
            : TokenScopes.IsValidSubject(target) && target.Length <= 64 && !target.StartsWith("sk-", StringComparison.Ordinal) ? target
            : KeySubject.For(target);
        return (subject, options.For(subject), Source(options, subject), null, null);
    }

    private static string Source(LimitsOptions options, string subject)
        => options.BySubject.ContainsKey(subject) ? ConfigKeys.LimitsBySubject : options.Default is not null ? ConfigKeys.LimitsDefault : "none set";

    private static void Describe(StringBuilder report, RuleReport rule)
    {
        var limit = rule.Rule;
        report.AppendLine(limit.Model is null ? "  all requests:" : $"  model {limit.Model}:");
        if (limit.RequestsPerMinute is { } rpm)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"    requests in the last minute  {rule.RequestsLastMinute:N0} of {rpm:N0}");
        }

        if (limit.TokensPerMinute is { } tpm)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"    tokens in the last minute    {rule.TokensLastMinute:N0} of {tpm:N0}");
        }

        if (limit.Concurrency is { } concurrency)
        {
            report.AppendLine(CultureInfo.InvariantCulture, $"    open now                     {rule.Open:N0} of {concurrency:N0}");
        }

        if (limit.Budget is { } budget)
        {
            var period = limit.BudgetPeriod switch
            {
                BudgetPeriod.Day => "today",
                BudgetPeriod.Month => "this month",
                _ => "in total",
            };
            var resets = rule.BudgetResetsAt is { } at ? $", starts again {at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}" : "";
            report.AppendLine(CultureInfo.InvariantCulture,
                $"    budget used {period,-11}      {rule.BudgetUsed:N0} of {budget:N0} ({Math.Max(0, budget - rule.BudgetUsed):N0} left; {rule.BudgetInFlight:N0} of the use held by requests in flight){resets}");
        }
    }
}

using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using FcHandler.Hosting;
using FcHandler.Limits;

namespace FcHandler.Access;

/// <summary>
/// <c>token issue --subject &lt;name&gt; --expires-in &lt;30d|12h|90m&gt; [--models a,b] [--routes generation,pass-through,realtime]
/// [--limits ...] [--rpm N] [--tpm N] [--concurrency N] [--budget N/day|month|total]</c>: signs a token with
/// <c>PROXY_TOKEN_SECRET</c> from the environment. Its limits ride inside it, checked when it is issued and each time
/// it is presented: no database holds them. Only the token goes to stdout, so it can be
/// captured (<c>TOKEN=$(... token issue ...)</c>); its id and expiry go to stderr, for the record and for revocation.
/// </summary>
internal static class TokenCommand
{
    public const string Usage =
        "usage: token issue --subject <name> --expires-in <30d|12h|90m> [--models gpt-4o-mini,gpt-4o*] [--routes generation,pass-through,realtime] " +
        "[--limits rpm=60,budget=1M/month] [--rpm N] [--tpm N] [--concurrency N] [--budget N/day|month|total]\n" +
        "  Reads PROXY_TOKEN_SECRET from the environment; prints the token on stdout, its id and expiry on stderr.";

    private static readonly string[] Options = ["--subject", "--expires-in", "--models", "--routes", "--limits", "--rpm", "--tpm", "--concurrency", "--budget"];

    private static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(3650);

    public static int Run(string[] args)
        => Run(args, Environment.GetEnvironmentVariable(ConfigKeys.ProxyTokenSecret), Console.Out, Console.Error, TimeProvider.System);

    public static int Run(string[] args, string? secretValue, TextWriter stdout, TextWriter stderr, TimeProvider time)
    {
        try
        {
            if (args is not ["issue", .. var options] || ReadOptions(options) is not { } named)
            {
                stderr.WriteLine(Usage);
                return 2;
            }

            var secret = AccessOptionsReader.ReadSecret(secretValue, ConfigKeys.ProxyTokenSecret)
                ?? throw new ConfigurationException($"{ConfigKeys.ProxyTokenSecret} is not set: set it to the same secret the proxy has.");
            var payload = ReadPayload(named, time.GetUtcNow());
            stdout.WriteLine(SignedToken.Issue(payload, secret));

            var expires = DateTimeOffset.FromUnixTimeSeconds(payload.Exp).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            var limits = payload.Limits is null ? "" : $" limits={payload.Limits}";
            stderr.WriteLine(
                $"Issued token id={payload.Jti} subject={payload.Sub} expires={expires}{limits}; revoke with {ConfigKeys.ProxyRevokedTokenIds}={payload.Jti} " +
                $"or, with {ConfigKeys.LimitsStore}, 'token revoke {payload.Jti}'");
            return 0;
        }
        catch (ConfigurationException exception)
        {
            stderr.WriteLine($"token issue: {exception.Message}");
            return 2;
        }
    }

    private static Dictionary<string, string>? ReadOptions(string[] options)
    {
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < options.Length; i += 2)
        {
            if (!Options.Contains(options[i]) || !named.TryAdd(options[i], options[i + 1]))
            {
                return null;
            }
        }

        return options.Length % 2 == 0 && named.ContainsKey("--subject") && named.ContainsKey("--expires-in") ? named : null;
    }

    private static TokenPayload ReadPayload(Dictionary<string, string> named, DateTimeOffset now)
    {
        var subject = named["--subject"];
        if (!TokenScopes.IsValidSubject(subject))
        {
            throw new ConfigurationException(
                $"--subject must be 1 to {TokenScopes.MaxSubjectLength} letters, digits or ._@:- (it appears in the access log), such as alice or team-a.");
        }

        var models = named.TryGetValue("--models", out var modelList) ? List(modelList) : null;
        if (models is not null && (models.Length == 0 || !models.All(TokenScopes.IsValidModel)))
        {
            throw new ConfigurationException("--models must be a comma-separated list of model ids, a trailing * for a prefix, such as gpt-4o-mini,gpt-4o*.");
        }

        var routes = named.TryGetValue("--routes", out var routeList) ? List(routeList) : null;
        if (routes is not null && (routes.Length == 0 || TokenScopes.ParseRoutes(routes) is null))
        {
            throw new ConfigurationException($"--routes must be a comma-separated list of {TokenScopes.Generation}, {TokenScopes.PassThrough} and {TokenScopes.Realtime}.");
        }

        var lifetime = ReadLifetime(named["--expires-in"]);
        return new TokenPayload(
            subject, (now + lifetime).ToUnixTimeSeconds(), Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(12)), models, routes, ReadLimits(named));
    }

    // --limits and the single-limit options, read as one list, so a limit set twice is refused like any malformed one.
    private static string? ReadLimits(Dictionary<string, string> named)
    {
        var items = new List<string>();
        if (named.TryGetValue("--limits", out var limits))
        {
            items.Add(limits);
        }

        foreach (var key in (string[])["rpm", "tpm", "concurrency", "budget"])
        {
            if (named.TryGetValue("--" + key, out var value))
            {
                items.Add($"{key}={value}");
            }
        }

        try
        {
            return items.Count == 0 ? null : LimitSet.Parse(string.Join(',', items)).Text;
        }
        catch (FormatException exception)
        {
            throw new ConfigurationException($"the token's limits {exception.Message}.");
        }
    }

    private static TimeSpan ReadLifetime(string value)
    {
        var unit = value.Length > 1 ? char.ToLowerInvariant(value[^1]) switch
        {
            'd' => TimeSpan.FromDays(1),
            'h' => TimeSpan.FromHours(1),
            'm' => TimeSpan.FromMinutes(1),
            _ => TimeSpan.Zero,
        } : TimeSpan.Zero;

        if (unit == TimeSpan.Zero
            || !int.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count <= 0
            || unit * count > MaxLifetime)
        {
            throw new ConfigurationException($"--expires-in must be a positive duration up to 3650d such as 30d, 12h or 90m; got '{value}'.");
        }

        return unit * count;
    }

    private static string[] List(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

using System.Diagnostics;
using System.Net.Sockets;
using FcHandler.Hosting;
using FcHandler.Keys;
using FcHandler.Proxy;
using FcHandler.Usage;

namespace FcHandler.Diagnostics;

/// <summary>
/// <c>FcHandler doctor</c>: checks the way from here to the upstream (DNS, TCP, TLS, each timed) and, with
/// <c>OPENAI_API_KEY</c> set (or each key of <c>OPENAI_API_KEYS</c>), asks <c>GET /v1/models</c> and explains the answer: healthy, key rejected, region refused,
/// quota exhausted. Run it where the proxy runs (in FC: <c>s instance exec ... --cmd '/code/bootstrap doctor'</c>):
/// OpenAI judges the region by the caller's address. Prints one line per step and exits with a
/// <see cref="DoctorOutcome"/>; the key is never printed.
/// </summary>
internal static class DoctorCommand
{
    public const string Usage =
        "usage: FcHandler doctor\n" +
        "  Checks DNS, TCP and TLS to UPSTREAM_BASE_URL and, with OPENAI_API_KEY (or each of OPENAI_API_KEYS) set, GET /v1/models; exit code per outcome.";

    private static readonly TimeSpan ApiTimeout = TimeSpan.FromSeconds(30);

    public static Task<int> RunAsync(string[] args)
        => RunAsync(args, new ConfigurationBuilder().AddEnvironmentVariables().Build(), Console.Out, UpstreamProbe.SystemResolve);

    public static async Task<int> RunAsync(
        string[] args, IConfiguration configuration, TextWriter output, UpstreamProbe.Resolver resolve)
    {
        if (args.Length > 0)
        {
            await output.WriteLineAsync(Usage);
            return (int)DoctorOutcome.BadUsage;
        }

        ProxyOptions options;
        try
        {
            options = ProxyOptionsReader.Read(configuration);
        }
        catch (ConfigurationException exception)
        {
            await output.WriteLineAsync($"settings  {exception.Message}");
            return (int)DoctorOutcome.BadUsage;
        }

        var region = configuration[ConfigKeys.SetByFc.Region];
        var probe = new UpstreamProbe(resolve, options.ConnectTimeout, UpstreamClient.CertificateCheck(options));
        await output.WriteLineAsync($"upstream  {options.DestinationPrefix}{(string.IsNullOrEmpty(region) ? " (FC_REGION not set: not in FC)" : $" from FC_REGION={region}")}");

        var report = await probe.RunAsync(options.UpstreamBaseUrl, CancellationToken.None);
        var failed = await PrintAsync(output, report);
        if (failed is { } outcome)
        {
            return (int)outcome;
        }

        IReadOnlyList<UpstreamKey> keys;
        try
        {
            keys = KeyPoolReader.Read(configuration);
        }
        catch (ConfigurationException exception)
        {
            await output.WriteLineAsync($"settings  {exception.Message}");
            return (int)DoctorOutcome.BadUsage;
        }

        if (keys.Count == 0)
        {
            await output.WriteLineAsync("api       not checked: set OPENAI_API_KEY to ask GET /v1/models with it (the key, the region, the quota)");
            await output.WriteLineAsync("result    reachable: DNS, TCP and TLS work from here");
            return (int)DoctorOutcome.Healthy;
        }

        if (keys.Count == 1)
        {
            return (int)await AskAsync(output, options, probe, keys[0], region, label: "");
        }

        // A pool: every key, each named by its label, then which work. The exit code is the first failing key's.
        var outcomes = new List<(UpstreamKey Key, DoctorOutcome Outcome)>(keys.Count);
        foreach (var key in keys)
        {
            outcomes.Add((key, await AskAsync(output, options, probe, key, region, label: $"[{key.Label}] ")));
        }

        var healthy = outcomes.Where(pair => pair.Outcome == DoctorOutcome.Healthy).Select(pair => pair.Key.Label).ToArray();
        var failing = outcomes.Where(pair => pair.Outcome != DoctorOutcome.Healthy).Select(pair => pair.Key.Label).ToArray();
        await output.WriteLineAsync(
            $"keys      {healthy.Length} of {keys.Count} healthy{(healthy.Length > 0 ? $": {string.Join(", ", healthy)}" : "")}" +
            $"{(failing.Length > 0 ? $"; not healthy: {string.Join(", ", failing)} (the pool rests them and carries on with the others)" : "")}");
        return (int)outcomes.Select(pair => pair.Outcome).FirstOrDefault(outcome => outcome != DoctorOutcome.Healthy, DoctorOutcome.Healthy);
    }

    private static async Task<DoctorOutcome?> PrintAsync(TextWriter output, ProbeReport report)
    {
        var failure = $"failed: {report.Failure}";
        await output.WriteLineAsync($"dns       {(report.FailedAt == ProbeStep.Dns ? failure : report.DnsLine)}");
        if (report.FailedAt == ProbeStep.Dns)
        {
            return DoctorOutcome.DnsFailed;
        }

        await output.WriteLineAsync($"connect   {(report.FailedAt == ProbeStep.Connect ? failure : report.ConnectLine)}");
        if (report.FailedAt == ProbeStep.Connect)
        {
            return DoctorOutcome.ConnectFailed;
        }

        await output.WriteLineAsync($"tls       {(report.FailedAt == ProbeStep.Tls ? failure : report.TlsLine)}");
        return report.FailedAt == ProbeStep.Tls ? DoctorOutcome.TlsFailed : null;
    }

    // GET /v1/models with the proxy's own connection settings (no proxy, no redirects, no decompression).
    private static async Task<DoctorOutcome> AskAsync(TextWriter output, ProxyOptions options, UpstreamProbe probe, UpstreamKey key, string? region, string label)
    {
        var handler = UpstreamClient.CreateHandler(options);
        handler.ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(await probe.Resolve(context.DnsEndPoint.Host, cancellationToken), context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: true);
        using var request = new HttpRequestMessage(HttpMethod.Get, options.DestinationPrefix + "/v1/models")
        {
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        request.Headers.TryAddWithoutValidation("Authorization", key.Authorization);

        var start = Stopwatch.GetTimestamp();
        int status;
        string? code;
        try
        {
            using var timeout = new CancellationTokenSource(ApiTimeout);
            using var response = await invoker.SendAsync(request, timeout.Token);
            status = (int)response.StatusCode;
            code = status >= 400 ? ErrorBodyCapture.ReadCode(await response.Content.ReadAsByteArrayAsync(timeout.Token)) : null;
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            await output.WriteLineAsync($"api       {label}GET /v1/models failed: {exception.Message}");
            await output.WriteLineAsync("result    no answer from the API although the connection works: retry, and check UPSTREAM_BASE_URL");
            return DoctorOutcome.UnexpectedAnswer;
        }

        await output.WriteLineAsync($"api       {label}GET /v1/models: {status}{(code is null ? "" : $" {code}")} in {ProbeReport.Ms(Stopwatch.GetElapsedTime(start).TotalMilliseconds)}");
        var (outcome, explanation) = Explain(status, code, region);
        await output.WriteLineAsync($"result    {label}{explanation}");
        return outcome;
    }

    private static (DoctorOutcome, string) Explain(int status, string? code, string? region) => (status, code) switch
    {
        (200, _) => (DoctorOutcome.Healthy, "healthy: the key works and OpenAI serves requests from here"),
        (401, _) => (DoctorOutcome.KeyRejected,
            $"key rejected ({code ?? "401"}): OpenAI does not accept OPENAI_API_KEY; check it at https://platform.openai.com/api-keys (a revoked or mistyped key, or one of another provider)"),
        (403, RegionAdvice.RefusalCode) => (DoctorOutcome.RegionRefused, $"region refused: {RegionAdvice.Explain(region)}"),
        (429, "insufficient_quota") => (DoctorOutcome.QuotaOrRateLimit,
            "quota exhausted (insufficient_quota): the key works, but its account has no credit left; add credit or raise the budget at https://platform.openai.com/settings/organization/billing"),
        (429, _) => (DoctorOutcome.QuotaOrRateLimit, $"rate limited ({code ?? "429"}): the key works but is over its rate limit right now; retry later"),
        _ => (DoctorOutcome.UnexpectedAnswer, $"unexpected answer {status}{(code is null ? "" : $" ({code})")}: see the code in OpenAI's error reference, https://platform.openai.com/docs/guides/error-codes"),
    };
}

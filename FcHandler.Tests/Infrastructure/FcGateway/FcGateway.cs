using System.Text;

namespace FcHandler.Tests.Infrastructure.FcGateway;

/// <summary>
/// FC's gateway in front of a web function, as Alibaba documents it, around the proxy as a real process: what the tests
/// otherwise skip between a client and the function. Each rule cites its source (facts with sources:
/// ../shared/docs/fc-platform.md, sections 2 and 5).
/// <list type="bullet">
/// <item>Keep-alive connections to the function, pooled and reused however long they idled; on a pooled connection the
/// function has closed, GET and HEAD are retried on a new one and a POST is answered 502 (FAQ "Process exited
/// unexpectedly before completing request", <see cref="KeepAliveFaq"/>).</item>
/// <item>FC's request headers added to each call (<see cref="AddFcHeaders"/>).</item>
/// <item>The request limits (400 InvalidArgument) and the response-header rules (502 BadResponse over 8 KB).</item>
/// <item>Chunked bodies relayed as they arrive, never buffered: <see cref="FcResponse.ReadChunkAsync"/>; for clients that
/// need a URL, <see cref="FcGatewayFront"/>.</item>
/// <item>WebSockets passed through, one connection each: <see cref="UpgradeAsync"/>.</item>
/// <item>Freezes: the process stopped (SIGSTOP) while nothing is in flight, its clocks moved on by the freeze's length
/// (<see cref="FakeClock"/>), then thawed (SIGCONT), as FC freezes an idle instance.</item>
/// </list>
/// </summary>
public sealed class FcGateway : IAsyncDisposable
{
    public const string KeepAliveFaq = "https://help.aliyun.com/zh/fc/support/how-to-handle-a-502-error-process-exited-unexpectedly-before-completing-request";

    /// <summary>FC 2.0/3.0 HTTP handler limits: https://www.alibabacloud.com/help/en/functioncompute/fc-2-0/user-guide/http-handlers-2 .</summary>
    public const string HttpHandlerLimits = "https://www.alibabacloud.com/help/en/functioncompute/fc-2-0/user-guide/http-handlers-2";

    // FC's limits on HTTP calls (HttpHandlerLimits; fc-platform.md section 2, "Limits").
    private const int MaxRequestHeaderBytes = 8 * 1024;
    private const int MaxPathAndQueryBytes = 4 * 1024;
    private const int MaxSyncBodyBytes = 32 * 1024 * 1024;
    private const int MaxResponseHeaderBytes = 8 * 1024;

    private readonly Stack<FunctionConnection> _idle = new();
    private readonly Lock _gate = new();
    private readonly List<string> _violations = [];
    private int _inFlight;
    private int _badGateways;
    private int _retries;
    private int _opened;
    private int _requestNumber;

    private FcGateway(Uri function, ProxyProcess? process, FakeClock? clock)
    {
        FunctionAddress = function;
        _process = process;
        _clock = clock;
    }

    private readonly ProxyProcess? _process;
    private readonly FakeClock? _clock;

    /// <summary>Where the function listens (FC_CUSTOM_LISTEN_PORT).</summary>
    public Uri FunctionAddress { get; }

    /// <summary>The proxy's process, when the gateway started it.</summary>
    public ProxyProcess Function => _process ?? throw new InvalidOperationException("This gateway fronts a function it did not start.");

    /// <summary>POSTs answered 502 because the function had closed the pooled connection they were sent on.</summary>
    public int BadGateways => Volatile.Read(ref _badGateways);

    /// <summary>GETs and HEADs resent on a new connection because the function had closed a pooled one.</summary>
    public int Retries => Volatile.Read(ref _retries);

    /// <summary>Connections opened to the function so far.</summary>
    public int ConnectionsOpened => Volatile.Read(ref _opened);

    /// <summary>Response headers the function may not set (x-fc-*, <c>Content-Disposition: attachment</c>), as "name: value".</summary>
    public IReadOnlyList<string> ResponseHeaderViolations
    {
        get
        {
            lock (_gate)
            {
                return [.. _violations];
            }
        }
    }

    /// <summary>Starts the proxy as a process on its own fake clock, with <paramref name="settings"/> as its environment.</summary>
    public static async Task<FcGateway> StartAsync(Uri upstream, IDictionary<string, string>? settings = null)
    {
        var clock = new FakeClock();
        var environment = new Dictionary<string, string>(settings ?? new Dictionary<string, string>());
        foreach (var (name, value) in clock.Environment)
        {
            environment[name] = value;
        }

        var function = await ProxyProcess.StartAsync(upstream, environment);
        return new FcGateway(function.BaseAddress, function, clock);
    }

    /// <summary>A gateway in front of any HTTP server (no freezes): for tests of the gateway itself.</summary>
    public static FcGateway InFrontOf(Uri function) => new(function, null, null);

    /// <summary>
    /// FC freezes an instance with no request in flight; the next request thaws it (fc-platform.md section 6,
    /// "Freezing": FC 2.0 called a PreFreeze hook before each freeze,
    /// https://alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/lifecycle-hooks-for-function-instances-6-1). The process is stopped, its clocks
    /// are moved on by <paramref name="length"/>, and it is resumed: to the process, <paramref name="length"/> passed
    /// frozen, and every timer due in that time fires at once on thaw. Returns once Kestrel's heartbeat has run twice
    /// on the new clock (its Date header, updated by each heartbeat just before the connections' timeouts are checked,
    /// has moved on twice), so whatever the thaw closes is closed by then.
    /// </summary>
    public async Task FreezeAsync(TimeSpan length)
    {
        Assert.Equal(0, Volatile.Read(ref _inFlight)); // FC never freezes an instance with a request in flight
        Function.Freeze();
        _clock!.Advance(length);
        Function.Thaw();

        var thawed = DateTimeOffset.UtcNow + _clock.Offset - TimeSpan.FromSeconds(2);
        var first = await DateAfterAsync(thawed);
        await DateAfterAsync(first);
    }

    /// <summary>The function's Date header once it is later than <paramref name="after"/>, asked on fresh connections (not the pool's).</summary>
    private async Task<DateTimeOffset> DateAfterAsync(DateTimeOffset after)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(100)); // the probe's pace, not a wait for a race
        do
        {
            var raw = await RawHttp.SendAsync(FunctionAddress, "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout.Token);
            var date = raw.Split("\r\n").First(line => line.StartsWith("Date: ", StringComparison.OrdinalIgnoreCase))[6..];
            var seen = DateTimeOffset.Parse(date, System.Globalization.CultureInfo.InvariantCulture);
            if (seen > after)
            {
                return seen;
            }
        }
        while (await pace.WaitForNextTickAsync(timeout.Token));

        throw new TimeoutException();
    }

    /// <summary>A request as a client sends it to the custom domain; the response's body is read from the function as it arrives.</summary>
    public async Task<FcResponse> SendAsync(string method, string target, IDictionary<string, string>? headers = null, string? body = null, CancellationToken cancellationToken = default)
    {
        headers ??= new Dictionary<string, string>();
        var bodyBytes = body is null ? null : Encoding.UTF8.GetBytes(body);
        if (Refusal(target, headers, bodyBytes) is { } refusal)
        {
            return FcResponse.FromGateway(400, "InvalidArgument", refusal);
        }

        var requestId = $"fc-gw-{Interlocked.Increment(ref _requestNumber)}";
        var sent = new List<KeyValuePair<string, string>>([new("Host", "api.example.com"), .. headers]);
        AddFcHeaders(sent, requestId);

        Interlocked.Increment(ref _inFlight);
        try
        {
            while (true)
            {
                var connection = await TakeAsync(cancellationToken);
                var reused = connection.Served > 0;
                (int Status, List<KeyValuePair<string, string>> Headers, int HeaderBytes)? head;
                try
                {
                    await connection.WriteRequestAsync(method, target, sent, bodyBytes, cancellationToken);
                    head = await connection.ReadHeadAsync(cancellationToken);
                }
                catch (IOException)
                {
                    head = null;
                }

                if (head is null)
                {
                    connection.Dispose();
                    if (!reused)
                    {
                        throw new IOException("The function closed a new connection without answering.");
                    }

                    // FC retries idempotent requests on a connection the function closed; a POST gets 502 (KeepAliveFaq).
                    if (method is "GET" or "HEAD" or "OPTIONS" or "TRACE")
                    {
                        Interlocked.Increment(ref _retries);
                        continue;
                    }

                    Interlocked.Increment(ref _badGateways);
                    Interlocked.Decrement(ref _inFlight);
                    return FcResponse.FromGateway(502, "ProcessExitedUnexpectedly", "Process exited unexpectedly before completing request");
                }

                connection.Served++;
                var (status, responseHeaders, headerBytes) = head.Value;
                if (headerBytes > MaxResponseHeaderBytes)
                {
                    // Response headers over 8 KB: 502 BadResponse (HttpHandlerLimits).
                    connection.Dispose();
                    Interlocked.Decrement(ref _inFlight);
                    return FcResponse.FromGateway(502, "BadResponse", "response headers exceed 8 KB");
                }

                var relayed = Screen(responseHeaders);
                return FcResponse.Start(status, relayed, responseHeaders, method == "HEAD", connection, Release);
            }
        }
        catch
        {
            Interlocked.Decrement(ref _inFlight);
            throw;
        }
    }

    /// <summary>
    /// A WebSocket handshake as a client sends it to the custom domain. FC's HTTP trigger passes a custom runtime's
    /// WebSockets through, each one call on its own connection to the function for as long as it lasts
    /// (https://help.aliyun.com/document_detail/424823.html; fc-platform.md, "WebSocket"): FC's request headers are
    /// added, the same request limits apply, and after the function's 101 the connection carries the frames both ways.
    /// </summary>
    /// <returns>The function's answer; after a 101, <see cref="FcUpgrade.Connection"/> is the WebSocket's connection.</returns>
    public async Task<FcUpgrade> UpgradeAsync(string target, IDictionary<string, string>? headers = null, CancellationToken cancellationToken = default)
    {
        headers ??= new Dictionary<string, string>();
        if (Refusal(target, headers, null) is { } refusal)
        {
            return new FcUpgrade(FcResponse.FromGateway(400, "InvalidArgument", refusal), null);
        }

        List<KeyValuePair<string, string>> sent =
        [
            new("Host", "api.example.com"), new("Upgrade", "websocket"), new("Sec-WebSocket-Version", "13"),
            new("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), .. headers,
        ];
        AddFcHeaders(sent, $"fc-gw-{Interlocked.Increment(ref _requestNumber)}");
        sent.Add(new("Connection", "Upgrade"));

        Interlocked.Increment(ref _opened);
        var connection = await FunctionConnection.OpenAsync(FunctionAddress, cancellationToken);
        await connection.WriteRequestAsync("GET", target, sent, null, cancellationToken);
        var (status, responseHeaders, _) = await connection.ReadHeadAsync(cancellationToken) ?? throw new IOException("The function closed the connection without answering.");
        var relayed = Screen(responseHeaders);
        if (status == 101)
        {
            return new FcUpgrade(FcResponse.Upgraded(relayed), connection.Upgraded());
        }

        Interlocked.Increment(ref _inFlight);
        return new FcUpgrade(FcResponse.Start(status, relayed, responseHeaders, head: false, connection, (used, _) =>
        {
            Interlocked.Decrement(ref _inFlight);
            used.Dispose();
        }), null);
    }

    /// <summary>FC's limits on a client's request: 400 InvalidArgument (HttpHandlerLimits; fc-platform.md section 2, "Limits").</summary>
    private static string? Refusal(string target, IDictionary<string, string> headers, byte[]? body)
    {
        if (headers.Keys.FirstOrDefault(name => name.StartsWith("x-fc-", StringComparison.OrdinalIgnoreCase)
            || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)) is { } reserved)
        {
            return $"header {reserved} is not allowed";
        }

        if (headers.Sum(header => header.Key.Length + header.Value.Length + 4) > MaxRequestHeaderBytes)
        {
            return "request headers exceed 8 KB";
        }

        if (Encoding.UTF8.GetByteCount(target) > MaxPathAndQueryBytes)
        {
            return "path and query exceed 4 KB";
        }

        return body is { Length: > MaxSyncBodyBytes } ? "request body exceeds 32 MB" : null;
    }

    /// <summary>
    /// The common headers FC adds to each HTTP call into a custom runtime (https://www.alibabacloud.com/help/zh/fc/user-guide/specification-details;
    /// FC 3.0: https://alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/context-and-log-format-1). On
    /// custom.debian11 the security token is no longer sent (https://help.aliyun.com/document_detail/2513507.html).
    /// </summary>
    private static void AddFcHeaders(List<KeyValuePair<string, string>> headers, string requestId)
    {
        headers.Add(new("x-fc-request-id", requestId));
        headers.Add(new("x-fc-control-path", "/http-invoke"));
        headers.Add(new("x-fc-function-name", "openai-proxy"));
        headers.Add(new("x-fc-function-handler", "index.handler"));
        headers.Add(new("x-fc-function-memory", "128"));
        headers.Add(new("x-fc-function-timeout", "600"));
        headers.Add(new("x-fc-region", "ap-southeast-1"));
        headers.Add(new("x-fc-account-id", "1234567890"));
        headers.Add(new("x-fc-qualifier", "LATEST"));
        headers.Add(new("x-fc-version-id", ""));
        headers.Add(new("x-fc-access-key-id", "STS.gateway-test-key"));
        headers.Add(new("x-fc-access-key-secret", "gateway-test-secret"));
        headers.Add(new("x-fc-client-ip", "203.0.113.7"));
    }

    /// <summary>
    /// The function may not set x-fc-* (except x-fc-status, its own report), Connection, Content-Length, Date,
    /// Keep-Alive, Server, or Content-Disposition: attachment (HttpHandlerLimits). FC answers with its own framing, date
    /// and connection headers, so those of the function are dropped; x-fc-* and an attachment disposition are recorded
    /// as violations, for the tests to hold the proxy to.
    /// </summary>
    private List<KeyValuePair<string, string>> Screen(List<KeyValuePair<string, string>> headers)
    {
        var relayed = new List<KeyValuePair<string, string>>();
        foreach (var header in headers)
        {
            var name = header.Key.ToLowerInvariant();
            if ((name.StartsWith("x-fc-", StringComparison.Ordinal) && name != "x-fc-status")
                || (name == "content-disposition" && header.Value.StartsWith("attachment", StringComparison.OrdinalIgnoreCase)))
            {
                lock (_gate)
                {
                    _violations.Add($"{header.Key}: {header.Value}");
                }

                continue;
            }

            if (name is "connection" or "content-length" or "date" or "keep-alive" or "server" or "transfer-encoding")
            {
                continue;
            }

            relayed.Add(header);
        }

        return relayed;
    }

    private async Task<FunctionConnection> TakeAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_idle.TryPop(out var pooled))
            {
                return pooled;
            }
        }

        Interlocked.Increment(ref _opened);
        return await FunctionConnection.OpenAsync(FunctionAddress, cancellationToken);
    }

    /// <summary>A response read to its end gives its connection back to the pool; one cut short closes it.</summary>
    private void Release(FunctionConnection connection, bool reusable)
    {
        Interlocked.Decrement(ref _inFlight);
        if (!reusable)
        {
            connection.Dispose();
            return;
        }

        lock (_gate)
        {
            _idle.Push(connection);
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            while (_idle.TryPop(out var connection))
            {
                connection.Dispose();
            }
        }

        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        _clock?.Dispose();
    }
}

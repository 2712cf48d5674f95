using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> (Debian's package; <c>.ci/run</c> installs it) on a free loopback port, with no persistence,
/// started for a test or a class and stopped by its PID. Tests that share one keep apart by using subjects of their own.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly bool _cluster;
    private readonly string? _password;
    private readonly string[] _extra;
    private Process _process = null!;
    private LogCapture _output = null!;

    private RedisServer(int port, bool cluster, string? password, string[] extra)
    {
        Port = port;
        _cluster = cluster;
        _password = password;
        _extra = extra;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    /// <summary>LIMITS_STORE for this server.</summary>
    public string Url => string.Create(CultureInfo.InvariantCulture, $"redis://127.0.0.1:{Port}/0");

    public static string? Binary => new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server" }.FirstOrDefault(File.Exists);

    /// <param name="cluster">
    /// Run as a one-node cluster that owns every slot: it refuses, as Tair's and Redis's cluster modes do, a script whose
    /// keys are in more than one slot.
    /// </param>
    /// <param name="password">A password the server requires (<c>requirepass</c>); none by default.</param>
    /// <param name="extra">More configuration, as <c>redis-server</c> takes it on its command line.</param>
    public static async Task<RedisServer> StartAsync(bool cluster = false, string? password = null, params string[] extra)
    {
        var server = new RedisServer(Ports.Unused(), cluster, password, extra);
        await server.LaunchAsync();
        return server;
    }

    private async Task LaunchAsync()
    {
        var binary = Binary ?? throw new InvalidOperationException("redis-server is not installed: apt-get install redis-server (.ci/run does).");
        var port = Port.ToString(CultureInfo.InvariantCulture);
        List<string> arguments =
        [
            "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--protected-mode", "no", "--loglevel", "notice", "--dir", Path.GetTempPath(), "--enable-debug-command", "yes",
        ];
        arguments.AddRange(_extra);
        if (_password is not null)
        {
            arguments.AddRange(["--requirepass", _password]);
        }

        if (_cluster)
        {
            arguments.AddRange(["--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(Path.GetTempPath(), $"fchandler-nodes-{port}-{Guid.NewGuid():N}.conf")]);
        }

        var start = new ProcessStartInfo(binary, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Ready when it says so on stdout (loglevel notice): no polling.
        _output = new LogCapture();
        var output = _output;
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, line) => output.Add(line.Data ?? "");
        _process.ErrorDataReceived += (_, line) => output.Add(line.Data ?? "");
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await output.WaitForLineAsync(line => line.Contains("Ready to accept connections", StringComparison.Ordinal));
        if (_cluster)
        {
            Assert.Equal("+OK", await CommandAsync("CLUSTER", "ADDSLOTSRANGE", "0", "16383"));
            await output.WaitForLineAsync(line => line.Contains("Cluster state changed: ok", StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// Sends one command on a connection of its own; returns the reply's first line (<c>+OK</c>, <c>:1</c>, <c>-ERR ...</c>),
    /// or a bulk string's value.
    /// </summary>
    public async Task<string> CommandAsync(params string[] words) => await await SendAsync(words);

    /// <summary>Sends one command on a connection of its own and returns once it is written; the task it returns is the reply.</summary>
    public async Task<Task<string>> SendAsync(params string[] words)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port);
        var stream = client.GetStream();
        var request = new StringBuilder().Append('*').Append(words.Length).Append("\r\n");
        foreach (var word in words)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(word)).Append("\r\n").Append(word).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()));
        return ReplyAsync(client);
    }

    private static async Task<string> ReplyAsync(TcpClient client)
    {
        using (client)
        {
            using var reader = new StreamReader(client.GetStream(), Encoding.UTF8);
            var first = await reader.ReadLineAsync() ?? "";
            return first.StartsWith('$') && first != "$-1" ? await reader.ReadLineAsync() ?? "" : first;
        }
    }

    /// <summary>Kills the server at once (SIGKILL): the store is simply gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Starts the server again on the same port, empty.</summary>
    public async Task RestartAsync()
    {
        await KillAsync();
        _process.Dispose();
        await LaunchAsync();
    }

    /// <summary>Stops the server process (SIGSTOP): it holds its connections but answers nothing.</summary>
    public void Freeze() => Signal("STOP");

    public void Thaw() => Signal("CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Thaw();
        }

        await KillAsync();
        _process.Dispose();
    }
}

/// <summary>
/// A fact that needs <c>redis-server</c>. Without it the test is skipped with the reason, except where
/// <c>FCHANDLER_REQUIRE_REDIS=1</c> (as <c>.ci/run</c> sets): there a missing server fails the run instead of passing
/// it silently.
/// </summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisServer.Binary is null && Environment.GetEnvironmentVariable("FCHANDLER_REQUIRE_REDIS") != "1")
        {
            Skip = "Needs redis-server (apt-get install redis-server; .ci/run installs it).";
        }
    }
}

/// <summary>A theory that needs <c>redis-server</c>, like <see cref="RedisFactAttribute"/>.</summary>
public sealed class RedisTheoryAttribute : TheoryAttribute
{
    public RedisTheoryAttribute()
    {
        if (RedisServer.Binary is null && Environment.GetEnvironmentVariable("FCHANDLER_REQUIRE_REDIS") != "1")
        {
            Skip = "Needs redis-server (apt-get install redis-server; .ci/run installs it).";
        }
    }
}

using System.Diagnostics;
using System.Text.RegularExpressions;

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// The built proxy as a child process (<c>dotnet FcHandler.dll</c> from beside the tests), configured through its
/// environment only, for what an in-process host cannot show: how the process meets a signal and how it exits. Its
/// stdout (the log) is collected line by line.
/// </summary>
public sealed partial class ProxyProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ProxyProcess(Process process) => _process = process;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Its stdout and stderr, line by line.</summary>
    public LogCapture Logs { get; } = new();

    public static async Task<ProxyProcess> StartAsync(Uri upstream, IDictionary<string, string> settings)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "FcHandler.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // Only what the test sets: nothing from the environment the tests run in may configure the proxy.
        foreach (var name in start.Environment.Keys.Where(IsProxySetting).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["UPSTREAM_BASE_URL"] = upstream.ToString();
        start.Environment["LISTEN_HOST"] = "127.0.0.1";
        start.Environment["FC_CUSTOM_LISTEN_PORT"] = "0";
        foreach (var (name, value) in settings)
        {
            start.Environment[name] = value;
        }

        var proxy = new ProxyProcess(Process.Start(start)!);
        proxy._process.OutputDataReceived += (_, line) => proxy.Add(line.Data);
        proxy._process.ErrorDataReceived += (_, line) => proxy.Add(line.Data);
        proxy._process.BeginOutputReadLine();
        proxy._process.BeginErrorReadLine();

        var listening = await proxy.Logs.WaitForLineAsync(line => line.Contains("Proxy listening on", StringComparison.Ordinal));
        proxy.BaseAddress = new Uri(ListeningAddress().Match(listening).Value);
        return proxy;
    }

    /// <summary>Sends SIGTERM, as FC does to stop an instance (<see cref="Process.Kill()"/> would be SIGKILL).</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    public bool HasExited => _process.HasExited;

    public int Pid => _process.Id;

    /// <summary>Stops the process (SIGSTOP), as FC freezes an instance with nothing in flight; <see cref="Thaw"/> resumes it.</summary>
    public void Freeze() => Signal("STOP");

    public void Thaw() => Signal("CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>The exit code, once the process has exited (within 30 s, or the test fails).</summary>
    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return _process.ExitCode;
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            Logs.Add(line);
        }
    }

    private static bool IsProxySetting(string name)
        => name.StartsWith("FC_", StringComparison.Ordinal) || name.StartsWith("PROXY_", StringComparison.Ordinal) || name.StartsWith("LIMITS_", StringComparison.Ordinal)
            || name is "OPENAI_API_KEY" or "UPSTREAM_BASE_URL" or "LISTEN_HOST" or "MAX_REQUEST_BODY_MB" or "TEMP_STORAGE_MB" or "TEMP_STORAGE_DIR"
                or "UPSTREAM_CA_FILE" or "CLIENT_TIMEOUT" or "SSE_HEARTBEAT" or "WEBSOCKET_PING" or "PRE_STOP_TIMEOUT" or "GENERATION_TIMEOUT" or "DEFAULT_TIMEOUT" or "CONNECT_TIMEOUT";

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+")]
    private static partial Regex ListeningAddress();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Thaw();
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

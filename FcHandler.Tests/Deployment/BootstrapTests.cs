using System.Diagnostics;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Deployment;

/// <summary>
/// build/bootstrap, FC's entry point, run for real with /bin/sh: it execs a stand-in FcHandler that prints the
/// environment it was given, so each test sees exactly what the binary would see.
/// </summary>
public sealed class BootstrapTests : IDisposable
{
    private const string SystemBundle = "/etc/ssl/certs/ca-certificates.crt";
    private const string Inline = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
    private const string PooledArrays = "DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION";

    private readonly DirectoryInfo _code = Directory.CreateTempSubdirectory("fchandler-bootstrap-");

    public BootstrapTests()
    {
        File.Copy(Path.Combine(Fixtures.RepositoryRoot, "build", "bootstrap"), Path.Combine(_code.FullName, "bootstrap"));
        var fake = Path.Combine(_code.FullName, "FcHandler");
        File.WriteAllText(fake, """
            #!/bin/bash
            for name in UPSTREAM_CA_FILE SSL_CERT_FILE SSL_CERT_DIR DOTNET_GCTotalPhysicalMemory DOTNET_GCHeapHardLimit DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION; do
                if [ -n "${!name+set}" ]; then echo "$name=${!name}"; else echo "$name unset"; fi
            done
            echo "args=$*"
            echo "self=$0"
            """.ReplaceLineEndings("\n"));
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("bootstrap runs on FC's Linux, and so does this test.");
        }

        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(Path.Combine(_code.FullName, "bootstrap"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() => _code.Delete(recursive: true);

    private Task<Dictionary<string, string?>> RunAsync(params (string Name, string Value)[] environment)
        => RunAsync(new ProcessStartInfo("/bin/sh", [Path.Combine(_code.FullName, "bootstrap"), "invoke", "--event", "-"]), environment);

    private static async Task<Dictionary<string, string?>> RunAsync(ProcessStartInfo start, params (string Name, string Value)[] environment)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        foreach (var name in new[] { "UPSTREAM_CA_FILE", "SSL_CERT_FILE", "SSL_CERT_DIR", "DOTNET_GCTotalPhysicalMemory", "DOTNET_GCHeapHardLimit", "FC_FUNCTION_MEMORY_SIZE", Inline, PooledArrays })
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);

        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(
            line => line.Split([' ', '='], 2)[0],
            line => line.EndsWith(" unset", StringComparison.Ordinal) ? null : line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..]);
    }

    // The script finds the binary beside itself with shell builtins only (a $(...) would fork the shell, and on 0.1 vCPU
    // each fork before the proxy starts delays the first request): however it is started, the binary beside it is run.
    [Theory]
    [InlineData(false, "./bootstrap")] // as FC starts it, from /code
    [InlineData(false, "sh bootstrap")]
    [InlineData(true, "{name}/bootstrap")]
    [InlineData(true, "./{name}/bootstrap")]
    [InlineData(false, "{path}/bootstrap")]
    public async Task Start_AnyWayItIsStarted_ExecsTheBinaryBesideIt(bool fromParent, string command)
    {
        var line = command.Replace("{name}", _code.Name, StringComparison.Ordinal).Replace("{path}", _code.FullName, StringComparison.Ordinal);
        var start = new ProcessStartInfo("/bin/sh", ["-c", $"exec {line} invoke"])
        {
            WorkingDirectory = fromParent ? _code.Parent!.FullName : _code.FullName,
        };

        var seen = await RunAsync(start);

        Assert.Equal(Path.Combine(_code.FullName, "FcHandler"), Path.GetFullPath(seen["self"]!));
        Assert.Equal("invoke", seen["args"]);
    }

    [Fact]
    public async Task TrustStore_NothingSet_HandsTheSystemBundleToTheProxyAndEmptiesTheRuntimesStore()
    {
        Assert.True(File.Exists(SystemBundle), $"this test needs Debian's CA bundle at {SystemBundle} (package ca-certificates)");

        var seen = await RunAsync();

        Assert.Equal(SystemBundle, seen["UPSTREAM_CA_FILE"]);
        Assert.Equal("/dev/null", seen["SSL_CERT_FILE"]);
        Assert.Equal("", seen["SSL_CERT_DIR"]);
        Assert.Equal("invoke --event -", seen["args"]);
    }

    [Fact]
    public async Task TrustStore_OperatorsCaFile_ReplacesTheBundleAndTheRuntimesStoreIsEmptied()
    {
        var seen = await RunAsync(("UPSTREAM_CA_FILE", "/code/certs/gateway-ca.pem"));

        Assert.Equal("/code/certs/gateway-ca.pem", seen["UPSTREAM_CA_FILE"]);
        Assert.Equal(("/dev/null", ""), (seen["SSL_CERT_FILE"], seen["SSL_CERT_DIR"]));
    }

    [Theory]
    [InlineData("SSL_CERT_FILE", "/opt/my-roots.pem")]
    [InlineData("SSL_CERT_DIR", "/opt/my-roots")]
    public async Task TrustStore_OperatorsRuntimeStore_IsLeftAsItIs(string name, string value)
    {
        var seen = await RunAsync((name, value));

        Assert.Equal(value, seen[name]);
        Assert.Null(seen[name == "SSL_CERT_FILE" ? "SSL_CERT_DIR" : "SSL_CERT_FILE"]);
        Assert.Null(seen["UPSTREAM_CA_FILE"]);
    }

    [Theory]
    [InlineData("128", "8000000")]
    [InlineData("256", "10000000")]
    [InlineData("32768", "800000000")]
    [InlineData("3072", "c0000000")] // digits above 9: the shell's arithmetic, no printf
    [InlineData("999999", "f423f00000")]
    public async Task GcMemory_FcFunctionMemorySize_IsPassedOnInHexadecimalBytes(string megabytes, string hex)
    {
        var seen = await RunAsync(("FC_FUNCTION_MEMORY_SIZE", megabytes));

        Assert.Equal(hex, seen["DOTNET_GCTotalPhysicalMemory"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("128MB")]
    [InlineData("-128")]
    [InlineData("0128")]
    [InlineData("1000000")]
    public async Task GcMemory_NoOrMalformedMemorySize_SetsNothing(string megabytes)
    {
        var seen = await RunAsync(("FC_FUNCTION_MEMORY_SIZE", megabytes));

        Assert.Null(seen["DOTNET_GCTotalPhysicalMemory"]);
    }

    [Theory]
    [InlineData("DOTNET_GCTotalPhysicalMemory", "4000000")]
    [InlineData("DOTNET_GCHeapHardLimit", "3000000")]
    public async Task GcMemory_OperatorSetting_WinsOverTheFunctionSize(string name, string value)
    {
        var seen = await RunAsync(("FC_FUNCTION_MEMORY_SIZE", "128"), (name, value));

        Assert.Equal(value, seen[name]);
        Assert.Null(seen[name == "DOTNET_GCHeapHardLimit" ? "DOTNET_GCTotalPhysicalMemory" : "DOTNET_GCHeapHardLimit"]);
    }

    [Theory]
    [InlineData(Inline, "1")] // socket completions on the I/O thread
    [InlineData(PooledArrays, "256")] // arrays the shared pool keeps of each size
    public async Task RuntimeSetting_NothingSet_GetsFcsValue(string name, string expected)
    {
        var seen = await RunAsync();

        Assert.Equal(expected, seen[name]);
    }

    [Theory]
    [InlineData(Inline, "0")]
    [InlineData(PooledArrays, "32")]
    public async Task RuntimeSetting_OperatorSetting_IsLeftAsItIs(string name, string value)
    {
        var seen = await RunAsync((name, value));

        Assert.Equal(value, seen[name]);
    }
}

using System.Diagnostics;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Deployment;

/// <summary>
/// deploy.ps1 run for real, as a user or CI runs it: <c>dotnet pwsh -NoProfile -File deploy.ps1 ...</c> from the
/// repository, PowerShell being the repository's local tool (restored once here, as <c>.ci/run</c> does). A stand-in
/// <c>dotnet</c> first on the script's PATH records every call the script makes to it and fails it, so a test sees
/// whether anything would have been built.
/// </summary>
public sealed class DeployScript : IDisposable
{
    private readonly DirectoryInfo _bin = Directory.CreateTempSubdirectory("fchandler-deploy-bin-");

    public DeployScript()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The deployment is checked on Linux, as CI runs it.");
        }

        Dotnet = FindOnPath("dotnet") ?? throw new InvalidOperationException("dotnet is not on PATH");
        var restore = Run(Dotnet, ["tool", "restore"]);
        Assert.True(restore.ExitCode == 0, $"dotnet tool restore failed:\n{restore.Output}");

        var standIn = Path.Combine(_bin.FullName, "dotnet");
        File.WriteAllText(standIn, $"#!/bin/sh\necho \"$*\" >> '{DotnetCallLog}'\nexit 1\n");
        File.SetUnixFileMode(standIn, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The real dotnet, which starts PowerShell.</summary>
    public string Dotnet { get; }

    /// <summary>One line per call the script made to <c>dotnet</c>; no file if it made none.</summary>
    public string DotnetCallLog => Path.Combine(_bin.FullName, "dotnet-calls.log");

    public void Dispose() => _bin.Delete(recursive: true);

    /// <summary>Runs deploy.ps1 with these arguments; its exit code and everything it printed.</summary>
    public (int ExitCode, string Output) Run(params string[] arguments) => RunWith(new Dictionary<string, string>(), arguments);

    /// <summary>Runs deploy.ps1 with these arguments and these variables in its environment, as a deployer sets them.</summary>
    public (int ExitCode, string Output) RunWith(IDictionary<string, string> variables, params string[] arguments)
        => RunIn(Fixtures.RepositoryRoot, variables, arguments);

    /// <summary>
    /// Runs deploy.ps1 from another directory, as a deployer who is not in the repository does. PowerShell starts there
    /// (its -WorkingDirectory); dotnet itself starts in the repository, where its tool manifest is.
    /// </summary>
    public (int ExitCode, string Output) RunIn(string directory, IDictionary<string, string> variables, params string[] arguments)
    {
        File.Delete(DotnetCallLog);
        return Run(Dotnet, ["pwsh", "-NoProfile", "-NonInteractive", "-WorkingDirectory", directory, "-File", Path.Combine(Fixtures.RepositoryRoot, "deploy.ps1"), .. arguments],
            environment: start =>
            {
                start.Environment["PATH"] = _bin.FullName + Path.PathSeparator + start.Environment["PATH"];
                start.Environment["NO_COLOR"] = "1";
                // Only the arguments decide: nothing of a deployment configured where the tests run.
                foreach (var name in start.Environment.Keys.Where(name => name.StartsWith("DEPLOY_", StringComparison.Ordinal)
                    || name.StartsWith("ALIBABA_CLOUD_", StringComparison.Ordinal) || name == "serverless_devs_config_home").ToList())
                {
                    start.Environment.Remove(name);
                }

                foreach (var (name, value) in variables)
                {
                    start.Environment[name] = value;
                }
            });
    }

    private static (int ExitCode, string Output) Run(string file, string[] arguments, Action<ProcessStartInfo>? environment = null)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = Fixtures.RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        environment?.Invoke(start);

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in 2 minutes:\n{stdout}");
        }

        return (process.ExitCode, stdout + stderr.GetAwaiter().GetResult());
    }

    private static string? FindOnPath(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}

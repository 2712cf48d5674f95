using System.Diagnostics;

namespace FcHandler.Tests.Hosting;

/// <summary>The start-up lines, from the proxy run as its own process: the garbage collector is set up once per process.</summary>
public sealed class StartupLogTests
{
    [Theory]
    [InlineData("8000000", "GC heap limit 96 MB")] // 128 MB, as bootstrap passes FC_FUNCTION_MEMORY_SIZE=128 on
    [InlineData("10000000", "GC heap limit 192 MB")] // 256 MB
    public async Task InstanceLine_MemoryGivenToTheGc_NamesThreeQuartersAsTheHeapLimit(string totalPhysicalMemoryHex, string expected)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "FcHandler.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["LISTEN_HOST"] = "127.0.0.1";
        start.Environment["FC_CUSTOM_LISTEN_PORT"] = "0";
        start.Environment["DOTNET_GCTotalPhysicalMemory"] = totalPhysicalMemoryHex;
        start.Environment.Remove("DOTNET_GCHeapHardLimit");

        var instanceLine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data?.Contains("Instance: ", StringComparison.Ordinal) == true)
            {
                instanceLine.TrySetResult(line.Data);
            }
        };
        process.Exited += (_, _) => instanceLine.TrySetException(new InvalidOperationException("the proxy exited before its start-up lines"));
        process.EnableRaisingEvents = true;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var line = await instanceLine.Task.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Contains(expected, line, StringComparison.Ordinal);
            Assert.Matches(@"Instance: \d+ processor\(s\)", line);
        }
        finally
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }
}

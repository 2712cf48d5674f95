using System.Text.Json;
using FcHandler.Fc;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Fc;

/// <summary><c>FcHandler invoke --event</c>: fixtures replayed locally, printed as FC would return them.</summary>
public sealed class InvokeCommandTests
{
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(FakeOpenAI upstream, string[] args, string stdin = "")
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var exitCode = await InvokeCommand.RunAsync(args, new StringReader(stdin), output, errors, builder =>
            builder.Configuration.AddInMemoryCollection([new("UPSTREAM_BASE_URL", upstream.BaseAddress.ToString())]));
        return (exitCode, output.ToString(), errors.ToString());
    }

    [Theory]
    [InlineData("chat-completion.json", 200, "Hello!")]
    [InlineData("chat-completion-stream.json", 200, "data: [DONE]")]
    [InlineData("models-list.json", 200, "gpt-4o-mini")]
    [InlineData("cors-preflight.json", 204, "")]
    public async Task Fixture_PrintsTheResponseEventOnStdout(string fixture, int statusCode, string bodyContains)
    {
        await using var upstream = await FakeOpenAI.StartAsync();

        var (exitCode, stdout, stderr) = await RunAsync(upstream, ["--event", Fixtures.EventPath(fixture)]);

        Assert.Equal(0, exitCode);
        using var responseEvent = JsonDocument.Parse(stdout);
        Assert.Equal(statusCode, responseEvent.RootElement.GetProperty("statusCode").GetInt32());
        Assert.Contains(bodyContains, responseEvent.RootElement.GetProperty("body").GetString(), StringComparison.Ordinal);
        Assert.False(responseEvent.RootElement.GetProperty("isBase64Encoded").GetBoolean());
        Assert.Equal(JsonValueKind.Object, responseEvent.RootElement.GetProperty("headers").ValueKind);
        Assert.Empty(stderr); // the logs go to the console logger's stderr, never into stdout
    }

    [Fact]
    public async Task MalformedFixture_PrintsTheErrorAndExits1()
    {
        await using var upstream = await FakeOpenAI.StartAsync();

        var (exitCode, stdout, _) = await RunAsync(upstream, ["--event", Fixtures.EventPath("malformed-missing-method.json")]);

        Assert.Equal(1, exitCode);
        using var error = JsonDocument.Parse(stdout);
        Assert.Equal("requestContext.http.method", error.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Empty(upstream.Requests);
    }

    [Fact]
    public async Task EventFromStdin_IsInvoked()
    {
        await using var upstream = await FakeOpenAI.StartAsync();

        var (exitCode, stdout, _) = await RunAsync(upstream, ["--event", "-"], Fixtures.Event("models-list.json"));

        Assert.Equal(0, exitCode);
        Assert.Contains("gpt-4o-mini", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("--event")]
    [InlineData("--evnt x.json")]
    public async Task BadArguments_PrintUsageAndExit2(string commandLine)
    {
        var args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        await using var upstream = await FakeOpenAI.StartAsync();

        var (exitCode, stdout, stderr) = await RunAsync(upstream, args);

        Assert.Equal(2, exitCode);
        Assert.Empty(stdout);
        Assert.Contains("usage: FcHandler invoke --event", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingFile_SaysWhichAndExits2()
    {
        await using var upstream = await FakeOpenAI.StartAsync();

        var (exitCode, _, stderr) = await RunAsync(upstream, ["--event", "/nonexistent/event.json"]);

        Assert.Equal(2, exitCode);
        Assert.Contains("/nonexistent/event.json", stderr, StringComparison.Ordinal);
    }
}

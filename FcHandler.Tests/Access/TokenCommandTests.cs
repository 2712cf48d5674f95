using System.Text;
using FcHandler.Access;

namespace FcHandler.Tests.Access;

public sealed class TokenCommandTests
{
    private static (int Exit, string Stdout, string Stderr) Run(string? secret, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = TokenCommand.Run(args, secret, stdout, stderr, TimeProvider.System);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Issue_PrintsOnlyAVerifiableTokenOnStdout()
    {
        var (exit, stdout, stderr) = Run(AccessKit.Secret,
            "issue", "--subject", "team-a", "--expires-in", "30d", "--models", "gpt-4o-mini,gpt-4o*", "--routes", "generation,realtime");

        Assert.Equal(0, exit);
        var token = stdout.TrimEnd('\n', '\r');
        Assert.DoesNotContain('\n', token);
        var payload = SignedToken.Verify(token, Encoding.UTF8.GetBytes(AccessKit.Secret));
        Assert.NotNull(payload);
        Assert.Equal("team-a", payload.Sub);
        Assert.Equal(["gpt-4o-mini", "gpt-4o*"], payload.Models!);
        Assert.Equal(["generation", "realtime"], payload.Routes!);
        Assert.InRange(payload.Exp - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), (30 * 86400) - 60, 30 * 86400);
        Assert.Contains($"id={payload.Jti}", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(AccessKit.Secret, stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Issue_WithLimits_CarriesThemCanonicallyInTheToken()
    {
        var (exit, stdout, stderr) = Run(AccessKit.Secret,
            "issue", "--subject", "agent-7", "--expires-in", "7d", "--limits", "rpm[o3*]=2", "--rpm", "30", "--budget", "500k/day", "--concurrency", "2");

        Assert.Equal(0, exit);
        var payload = SignedToken.Verify(stdout.Trim(), Encoding.UTF8.GetBytes(AccessKit.Secret))!;
        Assert.Equal("rpm=30,concurrency=2,budget=500000/day,rpm[o3*]=2", payload.Limits);
        Assert.Contains("limits=rpm=30,concurrency=2,budget=500000/day,rpm[o3*]=2", stderr, StringComparison.Ordinal);
        Assert.Contains($"'token revoke {payload.Jti}'", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--rpm", "lots")]
    [InlineData("--budget", "100")]
    [InlineData("--limits", "rpm=5,rpm=6")]
    public void Issue_BadLimits_AreRefusedBeforeAnyTokenIsPrinted(string option, string value)
    {
        var (exit, stdout, stderr) = Run(AccessKit.Secret, "issue", "--subject", "a", "--expires-in", "1h", option, value);

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains("the token's limits", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Issue_RpmTwice_ThroughBothOptions_IsRefused()
    {
        var (exit, _, stderr) = Run(AccessKit.Secret, "issue", "--subject", "a", "--expires-in", "1h", "--limits", "rpm=5", "--rpm", "6");

        Assert.Equal(2, exit);
        Assert.Contains("sets rpm twice", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Issue_TwoTokens_HaveDistinctIds()
    {
        var secret = Encoding.UTF8.GetBytes(AccessKit.Secret);
        var first = SignedToken.Verify(Run(AccessKit.Secret, "issue", "--subject", "a", "--expires-in", "1h").Stdout.Trim(), secret);
        var second = SignedToken.Verify(Run(AccessKit.Secret, "issue", "--subject", "a", "--expires-in", "1h").Stdout.Trim(), secret);

        Assert.NotEqual(first!.Jti, second!.Jti);
    }

    [Theory]
    [InlineData(null, "PROXY_TOKEN_SECRET")]
    [InlineData("short", "PROXY_TOKEN_SECRET")]
    public void Issue_WithoutUsableSecret_FailsNamingTheSetting(string? secret, string expected)
    {
        var (exit, stdout, stderr) = Run(secret, "issue", "--subject", "a", "--expires-in", "1h");

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("issue")]
    [InlineData("issue", "--subject", "a")]
    [InlineData("revoke", "--subject", "a", "--expires-in", "1h")]
    [InlineData("issue", "--subject", "a", "--expires-in", "1h", "--admin", "yes")]
    public void BadArguments_PrintUsage(params string[] args)
    {
        var (exit, stdout, stderr) = Run(AccessKit.Secret, args);

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.StartsWith("usage: token issue", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--expires-in", "30")]
    [InlineData("--expires-in", "0d")]
    [InlineData("--expires-in", "9999d")]
    [InlineData("--models", ",")]
    [InlineData("--routes", "admin")]
    public void BadOptionValue_FailsNamingTheOption(string option, string value)
    {
        var args = new Dictionary<string, string> { ["--subject"] = "a", ["--expires-in"] = "1h", [option] = value };

        var (exit, stdout, stderr) = Run(AccessKit.Secret, ["issue", .. args.SelectMany(a => new[] { a.Key, a.Value })]);

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains(option, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Issue_SubjectThatCouldForgeALogLine_IsRefused()
        => Assert.Equal(2, Run(AccessKit.Secret, "issue", "--subject", "a\nINFO forged", "--expires-in", "1h").Exit);
}

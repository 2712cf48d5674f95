using System.Text;
using FcHandler.Access;
using FcHandler.Limits;
using FcHandler.Tests.Access;
using FcHandler.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace FcHandler.Tests.Limits;

/// <summary><c>token revoke</c> and <c>limits show</c> against a real Redis server, as an operator runs them.</summary>
public sealed class StoreCommandTests : IAsyncLifetime
{
    private RedisServer? _redis;

    public async Task InitializeAsync()
    {
        if (RedisServer.Binary is not null)
        {
            _redis = await RedisServer.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    private IConfiguration Settings(params (string Key, string Value)[] extra)
        => TestSettings.Of([("LIMITS_STORE", _redis!.Url), ("PROXY_TOKEN_SECRET", AccessKit.Secret), .. extra]);

    private static async Task<(int Exit, string Stdout, string Stderr)> RevokeAsync(IConfiguration settings, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await TokenRevokeCommand.RunAsync(args, settings, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> ShowAsync(IConfiguration settings, string stdin, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await LimitsCommand.RunAsync(args, settings, new StringReader(stdin), stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [RedisFact]
    public async Task Revoke_AnId_IsInTheStoreOnce()
    {
        var (exit, stdout, _) = await RevokeAsync(Settings(), "tok-123");
        var (again, stdoutAgain, _) = await RevokeAsync(Settings(), "tok-123");

        Assert.Equal((0, 0), (exit, again));
        Assert.Contains("Revoked token id=tok-123: every instance refuses it within 2s", stdout, StringComparison.Ordinal);
        Assert.Contains("was already revoked", stdoutAgain, StringComparison.Ordinal);
        Assert.Equal(":1", await _redis!.CommandAsync("SCARD", "fcp:{revoked}:ids"));
    }

    [Fact]
    public async Task Revoke_WithoutAStore_SaysWhyAndExits2()
    {
        var (exit, _, stderr) = await RevokeAsync(TestSettings.Of(), "tok-123");

        Assert.Equal(2, exit);
        Assert.Contains("LIMITS_STORE is not set", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData]
    [InlineData("a", "b")]
    [InlineData("not an id")]
    public async Task Revoke_BadArguments_Exit2(params string[] args)
    {
        var (exit, stdout, _) = await RevokeAsync(TestSettings.Of(), args);

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
    }

    [Fact]
    public async Task Revoke_StoreUnreachable_Exits1NamingItWithoutItsPassword()
    {
        var (exit, _, stderr) = await RevokeAsync(TestSettings.Of(("LIMITS_STORE", $"redis://:pw-never-shown@127.0.0.1:{Ports.Unused()}")), "tok-1");

        Assert.Equal(1, exit);
        Assert.Contains("could not connect to the limits store redis://127.0.0.1:", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("pw-never-shown", stderr, StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task Show_ASignedToken_ReadsItsClaimedLimitsAndItsRevocation()
    {
        var token = AccessKit.Signed(subject: "carol", id: "tok-carol", limits: "rpm=10,budget=1000/month");
        var store = new RedisLimitStore(new RedisConnection(RedisStoreAddress.Parse("LIMITS_STORE", _redis!.Url), TimeSpan.FromSeconds(5), null), 0);
        var rules = LimitSet.Parse("rpm=10,budget=1000/month").For(null);
        await store.AdmitAsync(new AdmissionRequest("carol", rules, 250, true, "l"), default);
        await RevokeAsync(Settings(), "tok-carol");

        var (exit, stdout, stderr) = await ShowAsync(Settings(), "", "show", token);

        Assert.True(exit == 0, stderr);
        Assert.Contains("subject carol: rpm=10,budget=1000/month (the token's own)", stdout, StringComparison.Ordinal);
        Assert.Contains("token tok-carol: revoked", stdout, StringComparison.Ordinal);
        Assert.Contains("requests in the last minute  1 of 10", stdout, StringComparison.Ordinal);
        Assert.Contains("250 of 1,000 (750 left", stdout, StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task Show_AKeyFromStdin_IsShownAsItsSubjectAndNeverPrinted()
    {
        const string Key = "sk-proj-some-client-key-0123456789";

        var (exit, stdout, stderr) = await ShowAsync(Settings(("LIMITS_DEFAULT", "rpm=5")), Key + "\n", "show", "-");

        Assert.True(exit == 0, stderr);
        Assert.Contains($"subject {KeySubject.For(Key)}: rpm=5 (LIMITS_DEFAULT)", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, stdout + stderr, StringComparison.Ordinal);
    }

    [RedisFact]
    public async Task Show_ASubject_UsesItsOwnLimitsSetting()
    {
        var (exit, stdout, _) = await ShowAsync(Settings(("LIMITS_DEFAULT", "rpm=5"), ("LIMITS_BY_SUBJECT", "static-1 concurrency=3")), "", "show", "static-1");

        Assert.Equal(0, exit);
        Assert.Contains("subject static-1: concurrency=3 (LIMITS_BY_SUBJECT)", stdout, StringComparison.Ordinal);
        Assert.Contains("open now                     0 of 3", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_BadArguments_PrintUsage()
    {
        var (exit, stdout, stderr) = await ShowAsync(TestSettings.Of(), "", "list");

        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.StartsWith("usage: limits show", stderr, StringComparison.Ordinal);
    }
}

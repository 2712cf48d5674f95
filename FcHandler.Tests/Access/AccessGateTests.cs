using System.Collections.Frozen;
using System.Text;
using FcHandler.Access;
using FcHandler.Proxy;

namespace FcHandler.Tests.Access;

public sealed class AccessGateTests
{
    private static AccessGate Gate(params string[] revoked) => new(
        new AccessOptions
        {
            ServerKeys = [new FcHandler.Keys.UpstreamKey(AccessKit.ServerKey, null)],
            StaticTokens = [AccessKit.StaticToken, AccessKit.OtherStaticToken],
            TokenSecret = Encoding.UTF8.GetBytes(AccessKit.Secret),
            RevokedTokenIds = revoked.ToFrozenSet(),
        },
        TimeProvider.System);

    private static string? Refusal(AccessGate gate, string? authorization)
    {
        var admitted = gate.TryAdmit(authorization is null ? default : new(authorization), out _, out var error);
        return admitted ? null : error.Code;
    }

    [Fact]
    public void TryAdmit_SecondStaticToken_AdmitsAsStatic2()
    {
        Assert.True(Gate().TryAdmit($"Bearer {AccessKit.OtherStaticToken}", out var grant, out _));
        Assert.Equal("static-2", grant.Subject);
        Assert.True(grant.AllowsRoute(RouteClass.PassThrough));
        Assert.False(grant.HasModelScope);
    }

    [Fact]
    public void TryAdmit_StaticTokenDifferingInLastCharacter_IsInvalid()
        => Assert.Equal("invalid_api_key", Refusal(Gate(), "Bearer " + AccessKit.StaticToken[..^1] + "0"));

    [Theory]
    [InlineData(null, "missing_api_key")]
    [InlineData("", "missing_api_key")]
    [InlineData("Bearer ", "missing_api_key")]
    [InlineData("Basic dXNlcjpwYXNz", "missing_api_key")]
    [InlineData("Bearer sk-proj-a-real-openai-key-0123456789", "invalid_api_key")]
    [InlineData("Bearer " + AccessKit.ServerKey, "invalid_api_key")]
    public void TryAdmit_NoUsableToken_IsRefused(string? authorization, string code) => Assert.Equal(code, Refusal(Gate(), authorization));

    [Fact]
    public void TryAdmit_SignedToken_AdmitsWithItsScopes()
    {
        Assert.True(Gate().TryAdmit("bearer " + AccessKit.Signed("carol", models: ["gpt-4o*"], routes: ["generation"]), out var grant, out _));
        Assert.Equal("carol", grant.Subject);
        Assert.True(grant.AllowsModel("gpt-4o-2024-08-06"));
        Assert.False(grant.AllowsModel("o3"));
        Assert.False(grant.AllowsRoute(RouteClass.PassThrough));
    }

    [Fact]
    public void TryAdmit_ExpiredSignedToken_IsExpired()
        => Assert.Equal("token_expired", Refusal(Gate(), "Bearer " + AccessKit.Signed(expiresIn: TimeSpan.FromSeconds(-1))));

    [Fact]
    public void TryAdmit_RevokedSignedToken_IsRevoked()
        => Assert.Equal("token_revoked", Refusal(Gate("tok-9"), "Bearer " + AccessKit.Signed(id: "tok-9")));

    [Fact]
    public void TryAdmit_SignedTokenWithUnknownRoute_IsInvalidRatherThanWidened()
        => Assert.Equal("invalid_api_key", Refusal(Gate(), "Bearer " + AccessKit.Signed(routes: ["admin"])));

    [Fact]
    public void TryAdmitToken_OpenAIEphemeralKey_ForwardsItForTheRealtimeApiOnly()
    {
        Assert.True(Gate().TryAdmitToken("ek_68af296e8e408191a1120ab6383263c2", out var grant, out _));
        Assert.True(grant.ForwardsClientKey);
        Assert.True(grant.AllowsRoute(RouteClass.Realtime));
        Assert.False(grant.AllowsRoute(RouteClass.Generation));
        Assert.False(grant.AllowsRoute(RouteClass.PassThrough));
    }

    [Theory]
    [InlineData("ek_")]
    [InlineData("ek_short")]
    [InlineData("ek_with spaces in it 0123456789")]
    [InlineData("ek_with.a.dot.0123456789")]
    public void TryAdmitToken_MalformedEphemeralKey_IsInvalid(string token)
    {
        Assert.False(Gate().TryAdmitToken(token, out _, out var error));
        Assert.Equal("invalid_api_key", error.Code);
    }

    [Fact]
    public void TryAdmitToken_RealtimeScopedSignedToken_AllowsRealtimeOnly()
    {
        Assert.True(Gate().TryAdmitToken(AccessKit.Signed(routes: ["realtime"]), out var grant, out _));
        Assert.True(grant.AllowsRoute(RouteClass.Realtime));
        Assert.False(grant.AllowsRoute(RouteClass.Generation));
        Assert.False(grant.ForwardsClientKey);
    }
}

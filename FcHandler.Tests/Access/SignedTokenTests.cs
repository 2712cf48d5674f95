using System.Buffers.Text;
using System.Text;
using FcHandler.Access;

namespace FcHandler.Tests.Access;

public sealed class SignedTokenTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes(AccessKit.Secret);

    [Fact]
    public void Issue_ThenVerify_ReturnsTheClaims()
    {
        var token = AccessKit.Signed("alice", models: ["gpt-4o-mini"], routes: ["generation"], id: "id-7");

        var payload = SignedToken.Verify(token, Secret);

        Assert.NotNull(payload);
        Assert.Equal("alice", payload.Sub);
        Assert.Equal("id-7", payload.Jti);
        Assert.Equal(["gpt-4o-mini"], payload.Models!);
        Assert.Equal(["generation"], payload.Routes!);
    }

    [Fact]
    public void Issue_Format_IsPrefixPayloadSignatureWithPlainJsonClaims()
    {
        var token = AccessKit.Signed("bob", id: "x1");

        var parts = token.Split('.');
        Assert.Equal(["fcp1", parts[1], parts[2]], parts);
        var json = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1]));
        Assert.StartsWith("""{"sub":"bob","exp":""", json, StringComparison.Ordinal);
        Assert.EndsWith(""","jti":"x1"}""", json, StringComparison.Ordinal); // no models or routes: unrestricted
        Assert.Equal(32, Base64Url.DecodeFromChars(parts[2]).Length);
    }

    [Fact]
    public void Verify_PayloadChanged_IsRefused()
    {
        var token = AccessKit.Signed("alice", models: ["gpt-4o-mini"]);
        var parts = token.Split('.');
        var widened = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(
            Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1])).Replace("gpt-4o-mini", "gpt-4o", StringComparison.Ordinal)));

        Assert.Null(SignedToken.Verify($"fcp1.{widened}.{parts[2]}", Secret));
    }

    [Fact]
    public void Verify_OtherSecret_IsRefused()
        => Assert.Null(SignedToken.Verify(AccessKit.Signed(secret: "ANOTHER-secret-of-sufficient-length-000000"), Secret));

    [Theory]
    [InlineData("")]
    [InlineData("fcp1.")]
    [InlineData("fcp1..")]
    [InlineData("fcp1.e30.")]
    [InlineData("fcp1.e30.AAAA")]
    [InlineData("fcp2.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("fcp1.!!!.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Verify_Malformed_IsRefusedWithoutThrowing(string token) => Assert.Null(SignedToken.Verify(token, Secret));
}

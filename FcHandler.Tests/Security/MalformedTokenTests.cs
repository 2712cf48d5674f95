using System.Text;
using FcHandler.Access;
using FcHandler.Tests.Infrastructure;
using static FcHandler.Tests.Access.AccessKit;

namespace FcHandler.Tests.Security;

/// <summary>
/// Issue 27, item 4: every malformed credential is a 401 <c>invalid_api_key</c>, never a 500, and never an
/// error-level log line (anyone could otherwise flood the operator's error alerts). Fuzz-style: the variants are
/// derived from a real signed token by truncating, padding, re-encoding and growing it.
/// </summary>
public sealed class MalformedTokenTests : IAsyncLifetime
{
    private FakeOpenAI _upstream = null!;
    private ProxyHost _proxy = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAI.StartAsync();
        _proxy = await ProxyHost.StartAsync(_upstream, ServerKeyMode());
    }

    public async Task DisposeAsync()
    {
        await _proxy.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    /// <summary>Tokens a client can put in an HTTP header (ASCII, no control characters), each malformed.</summary>
    public static TheoryData<string> MalformedTokens()
    {
        // A fixed expiry (2100) keeps the variants the same from discovery to run.
        var valid = SignedToken.Issue(new TokenPayload("alice", 4_102_444_800, "tok-1", ["gpt-4o-mini"], null), Encoding.UTF8.GetBytes(Secret));
        var parts = valid.Split('.');
        var (payload, signature) = (parts[1], parts[2]);
        string[] variants =
        [
            "fcp1.e30.abc+", // the issue's: '+' is outside base64url's alphabet
            "fcp1.e30.abc/",
            "fcp1.e30.abc=",
            "fcp1.e30.a",
            "fcp1.e30.ab==",
            "fcp1.e30.====",
            "fcp1.e30." + new string('A', 44), // 33 bytes
            "fcp1.e30." + new string('A', 4000),
            "fcp1.+++." + signature,
            "fcp1.e30+." + signature,
            "fcp1." + payload + "." + signature + "=", // padded
            "fcp1." + payload + "=." + signature,
            "fcp1." + payload + "." + signature + "==",
            "fcp1." + payload + "." + ToStandard(signature), // standard base64 of the right bytes
            "fcp1." + ToStandard(payload) + "." + signature,
            "fcp1." + payload + "." + ToStandard(signature) + "=",
            "fcp1." + payload + "." + signature.Replace('A', '+'),
            "fcp1." + payload + "." + signature[..^1] + "%",
            "fcp1." + payload + "." + signature[..^1] + "\\",
            "fcp1." + payload + "." + signature + "." + signature,
            "fcp1." + payload + ".." + signature,
            "fcp1.." + signature,
            "fcp1." + new string('A', 6000) + "." + signature, // oversized
            "fcp1." + new string('-', 3000) + "." + new string('_', 3000),
            "fcp1." + payload + "." + signature + signature,
            .. Enumerable.Range(1, valid.Length - 1).Where(cut => cut % 7 == 1 || cut > valid.Length - 4).Select(cut => valid[..cut]), // truncated
        ];

        // A re-encoding that changes nothing (no '-', '_' or 'A' to replace) would be the valid token itself.
        return [.. variants.Where(token => token != valid).Distinct()];
    }

    [Theory]
    [MemberData(nameof(MalformedTokens))]
    public async Task MalformedSignedToken_Is401InvalidApiKeyWithoutAnErrorLine(string token)
    {
        var raw = await RawHttp.SendAsync(_proxy.BaseAddress,
            $"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");

        Assert.Equal(401, RawHttp.StatusOf(raw));
        Assert.Contains("\"code\":\"invalid_api_key\"", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", raw, StringComparison.Ordinal);
        Assert.DoesNotContain(_proxy.Logs.Lines, line => line.StartsWith("Error", StringComparison.Ordinal) || line.StartsWith("Critical", StringComparison.Ordinal));
        Assert.Empty(_upstream.Requests);
    }

    // Kestrel refuses a header that is not ASCII with a 400 before the proxy sees it, so these reach the gate only
    // from elsewhere (a WebSocket subprotocol decoded differently, a future transport): the gate must refuse them too.
    [Theory]
    [InlineData("fcp1.e30.Ã©Ã©Ã©Ã©")]
    [InlineData("fcp1.ééé.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("fcp1.e30.\uD800\uDC00")]
    [InlineData("fcp1.e30.\uD800")]
    [InlineData("fcp1.\u0000.\u0000")]
    [InlineData("fcp1.e30.ＡＡＡＡ")]
    public void NonAsciiSignedToken_IsRefusedAsInvalid(string token)
    {
        var gate = new AccessGate(
            new AccessOptions { ServerKeys = [new FcHandler.Keys.UpstreamKey(ServerKey, null)], TokenSecret = Encoding.UTF8.GetBytes(Secret) }, TimeProvider.System);

        Assert.False(gate.TryAdmitToken(token, out _, out var error));
        Assert.Equal("invalid_api_key", error.Code);
        Assert.Equal(401, error.Status);
    }

    private static string ToStandard(string base64Url)
    {
        var text = base64Url.Replace('-', '+').Replace('_', '/');
        return text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
    }
}

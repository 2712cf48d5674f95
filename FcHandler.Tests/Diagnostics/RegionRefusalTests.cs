using System.Net;
using FcHandler.Tests.Infrastructure;
using FcHandler.Tests.Usage;

namespace FcHandler.Tests.Diagnostics;

public sealed class RegionRefusalTests : ProxyTest
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["FC_REGION"] = "cn-hongkong" };

    [Fact]
    public async Task RegionRefusal_ReachesClientsUnchanged_AndIsExplainedOncePerInstance()
    {
        var refusal = UsageFixtures.Bytes("error-403-region.json");
        Upstream.Handler = async (context, _) =>
        {
            context.Response.StatusCode = 403;
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(refusal);
        };

        for (var i = 0; i < 3; i++)
        {
            using var response = await Proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal(refusal, await response.Content.ReadAsByteArrayAsync());
        }

        // All three access lines written: the warning comes right after the first.
        await Proxy.Logs.WaitForLineAsync(_ => Proxy.Logs.Lines.Count(l => l.Contains("error=unsupported_country_region_territory", StringComparison.Ordinal)) == 3);
        var warning = Assert.Single(Proxy.Logs.Lines, l => l.Contains("[50] ", StringComparison.Ordinal));
        Assert.StartsWith("Warning ", warning, StringComparison.Ordinal);
        Assert.Contains("cn-hongkong (FC_REGION)", warning, StringComparison.Ordinal);
        Assert.Contains("neither mainland China nor Hong Kong", warning, StringComparison.Ordinal);
        Assert.Contains("ap-southeast-1", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OtherForbiddenAnswer_IsNotExplainedAsARegionRefusal()
    {
        Upstream.Handler = (context, _) => FakeResponses.JsonAsync(
            context, """{"error":{"message":"no access","type":"invalid_request_error","param":null,"code":"model_not_found"}}""", 403);

        using var response = await Proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative));

        await Proxy.Logs.WaitForLineAsync(l => l.Contains("error=model_not_found", StringComparison.Ordinal));
        Assert.DoesNotContain(Proxy.Logs.Lines, l => l.Contains("[50] ", StringComparison.Ordinal));
    }
}

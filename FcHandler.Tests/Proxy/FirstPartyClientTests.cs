using System.Text;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Proxy;

/// <summary>
/// Each of OpenAI's own clients, one typical request with the headers it really sends and those FC and a CDN add
/// on the way: what the client means for OpenAI arrives unchanged, nothing else arrives.
/// </summary>
public sealed class FirstPartyClientTests : ProxyTest
{
    /// <summary>Sends the request, with <see cref="FirstPartyRequests.AddedOnTheWay"/> mixed in, and returns what the upstream saw.</summary>
    internal static async Task<RecordedRequest> SendAsync(ProxyHost proxy, FakeOpenAI upstream, FirstPartyRequest request)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, request.Path)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(request.Body)),
        };
        foreach (var (name, value) in request.Forwarded.Concat(request.Dropped).Concat(FirstPartyRequests.AddedOnTheWay))
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var response = await proxy.Client.SendAsync(message);
        return upstream.SingleRequest;
    }

    [Theory]
    [MemberData(nameof(FirstPartyRequests.Clients), MemberType = typeof(FirstPartyRequests))]
    public async Task ClientRequest_ItsHeaders_ReachUpstreamUnchanged(string client)
    {
        var request = FirstPartyRequests.Named(client);

        var upstream = await SendAsync(Proxy, Upstream, request);

        foreach (var (name, value) in request.Forwarded)
        {
            Assert.True(upstream.Headers.TryGetValue(name, out var seen), $"{client}: {name} did not reach the upstream");
            Assert.Equal(value, seen);
        }
    }

    [Theory]
    [MemberData(nameof(FirstPartyRequests.Clients), MemberType = typeof(FirstPartyRequests))]
    public async Task ClientRequest_WithIdentityHeadersMixedIn_UpstreamSeesOnlyTheClientsOwn(string client)
    {
        var request = FirstPartyRequests.Named(client);

        var upstream = await SendAsync(Proxy, Upstream, request);

        string[] expected = [.. request.Forwarded.Select(h => h.Name), "Host", "Content-Length"];
        Assert.Equal(
            expected.Select(name => name.ToLowerInvariant()).Order(),
            upstream.Headers.Keys.Select(name => name.ToLowerInvariant()).Order());
        foreach (var (_, value) in request.Dropped.Concat(FirstPartyRequests.AddedOnTheWay))
        {
            Assert.DoesNotContain(upstream.Headers.Values, seen => seen.Contains(value, StringComparison.Ordinal));
        }
    }
}

namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// A test class whose every test gets its own fake upstream and a proxy in front of it, configured by
/// <see cref="Settings"/>.
/// </summary>
public abstract class ProxyTest : IAsyncLifetime
{
    protected FakeOpenAI Upstream { get; private set; } = null!;

    protected ProxyHost Proxy { get; private set; } = null!;

    /// <summary>The proxy's settings beyond the upstream and the listen address; none by default.</summary>
    protected virtual IDictionary<string, string?>? Settings => null;

    public async Task InitializeAsync()
    {
        Upstream = await FakeOpenAI.StartAsync();
        Proxy = await ProxyHost.StartAsync(Upstream, Settings);
    }

    public async Task DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

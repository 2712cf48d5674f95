namespace FcHandler.Tests.Infrastructure;

/// <summary>
/// A test class whose every test gets its own fake upstream and a proxy in front of it, with default settings.
/// </summary>
public abstract class ProxyTest : IAsyncLifetime
{
    protected FakeOpenAI Upstream { get; private set; } = null!;

    protected ProxyHost Proxy { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await FakeOpenAI.StartAsync();
        Proxy = await ProxyHost.StartAsync(Upstream);
    }

    public async Task DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

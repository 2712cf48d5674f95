namespace FcHandler.Tests.Infrastructure;

/// <summary>Settings as the environment would give them, for the option readers' tests.</summary>
public static class TestSettings
{
    public static IConfiguration Of(params (string Key, string Value)[] settings)
        => new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
}

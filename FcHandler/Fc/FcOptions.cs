using FcHandler.Hosting;

namespace FcHandler.Fc;

/// <summary>How the proxy meets FC's lifecycle hooks.</summary>
internal sealed class FcOptions
{
    /// <summary>
    /// The longest the pre-stop hook waits for running requests (streams) to finish (<c>PRE_STOP_TIMEOUT</c>).
    /// Defaults to 25 seconds; keep it below the pre-stop timeout configured for the function, or FC cuts the
    /// hook short.
    /// </summary>
    public TimeSpan PreStopTimeout { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>
    /// The longest the initializer spends opening a connection to the upstream (<c>WARMUP_TIMEOUT</c>). Defaults to
    /// 3 seconds: a cold start should not wait long for an upstream that is down.
    /// </summary>
    public TimeSpan WarmupTimeout { get; init; } = TimeSpan.FromSeconds(3);

    public static FcOptions Read(IConfiguration configuration)
    {
        var defaults = new FcOptions();
        return new FcOptions
        {
            PreStopTimeout = Duration.Read(configuration, ConfigKeys.PreStopTimeout) ?? defaults.PreStopTimeout,
            WarmupTimeout = Duration.Read(configuration, ConfigKeys.WarmupTimeout) ?? defaults.WarmupTimeout,
        };
    }
}

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

    /// <summary>
    /// How long the instance must have no request in progress before the proxy compacts its heap and gives the memory
    /// of the last busy spell back (<c>IDLE_TRIM_AFTER</c>; <c>off</c> or <c>0</c> never does). Defaults to 5 seconds. It only
    /// collects when the heap has grown by 8 MB since the last time.
    /// </summary>
    public TimeSpan? IdleTrimAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Honour FC's control paths (<c>x-fc-control-path</c>: <c>/invoke</c>, <c>/initialize</c>, <c>/pre-stop</c>) outside
    /// FC, for local emulation (<c>PROXY_FC_EMULATION=on</c>). Defaults to off: outside FC (no <c>FC_FUNCTION_NAME</c>)
    /// nothing stops a client from sending the header, so it is ignored and the request is an ordinary one. In FC the
    /// control paths are always honoured.
    /// </summary>
    public bool FcEmulation { get; init; }

    public static FcOptions Read(IConfiguration configuration)
    {
        var defaults = new FcOptions();
        return new FcOptions
        {
            FcEmulation = ReadSwitch(configuration, ConfigKeys.ProxyFcEmulation),
            PreStopTimeout = Duration.Read(configuration, ConfigKeys.PreStopTimeout) ?? defaults.PreStopTimeout,
            WarmupTimeout = Duration.Read(configuration, ConfigKeys.WarmupTimeout) ?? defaults.WarmupTimeout,
            IdleTrimAfter = configuration[ConfigKeys.IdleTrimAfter]?.Trim() is "0" or "off" or "OFF" or "Off"
                ? null
                : Duration.Read(configuration, ConfigKeys.IdleTrimAfter) ?? defaults.IdleTrimAfter,
        };
    }

    private static bool ReadSwitch(IConfiguration configuration, string key)
        => configuration[key]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "off" or "0" or "false" => false,
            "on" or "1" or "true" => true,
            var other => throw new ConfigurationException($"{key} must be on or off; got '{other}'."),
        };
}

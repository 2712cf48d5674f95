namespace FcHandler.Hosting;

/// <summary>
/// Names of the settings the proxy reads. They are plain environment variables (FC passes a function's
/// configuration that way), read through <see cref="IConfiguration"/> so tests can supply them in memory.
/// </summary>
internal static class ConfigKeys
{
    public const string UpstreamBaseUrl = "UPSTREAM_BASE_URL";
    public const string GenerationTimeout = "GENERATION_TIMEOUT";
    public const string DefaultTimeout = "DEFAULT_TIMEOUT";
    public const string ConnectTimeout = "CONNECT_TIMEOUT";
    public const string CorsAllowedOrigins = "CORS_ALLOWED_ORIGINS";
    public const string ListenHost = "LISTEN_HOST";

    // Set by FC itself. https://www.alibabacloud.com/help/ja/functioncompute/fc/environment-variables
    public const string FcCustomListenPort = "FC_CUSTOM_LISTEN_PORT";
    public const string FcServerPort = "FC_SERVER_PORT";
    public const string FcFunctionName = "FC_FUNCTION_NAME";
}

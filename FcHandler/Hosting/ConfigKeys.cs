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
    public const string UpstreamCaFile = "UPSTREAM_CA_FILE";
    public const string CorsAllowedOrigins = "CORS_ALLOWED_ORIGINS";
    public const string ListenHost = "LISTEN_HOST";
    public const string ProxyForwardHeaders = "PROXY_FORWARD_HEADERS";
    public const string LogFormat = "LOG_FORMAT";
    public const string ChatStreamUsage = "CHAT_STREAM_USAGE";

    // Access control and client limits (FcHandler/Access/).
    public const string OpenAIApiKey = "OPENAI_API_KEY";
    public const string ProxyAccessTokens = "PROXY_ACCESS_TOKENS";
    public const string ProxyTokenSecret = "PROXY_TOKEN_SECRET";
    public const string ProxyRevokedTokenIds = "PROXY_REVOKED_TOKEN_IDS";
    public const string MaxRequestBodyMb = "MAX_REQUEST_BODY_MB";
    public const string ClientTimeout = "CLIENT_TIMEOUT";
    public const string TempStorageMb = "TEMP_STORAGE_MB";
    public const string TempStorageDir = "TEMP_STORAGE_DIR";

    // Set by FC itself. https://www.alibabacloud.com/help/ja/functioncompute/fc/environment-variables
    public const string FcCustomListenPort = "FC_CUSTOM_LISTEN_PORT";
    public const string FcServerPort = "FC_SERVER_PORT";
    public const string FcFunctionName = "FC_FUNCTION_NAME";
    public const string FcRegion = "FC_REGION";
}

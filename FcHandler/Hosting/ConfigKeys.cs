namespace FcHandler.Hosting;

/// <summary>
/// Names of every setting the proxy reads: the operator's (here), the variables FC sets (<see cref="SetByFc"/>) and
/// the runtime switch build/bootstrap sets (<see cref="SetByBootstrap"/>). They are plain environment variables (FC
/// passes a function's configuration that way), read through <see cref="IConfiguration"/> so tests can supply them in
/// memory. Each has a row in docs/configuration.md, and a test compares that page with this class both ways.
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
    public const string SseHeartbeat = "SSE_HEARTBEAT";
    public const string WebSocketPing = "WEBSOCKET_PING";

    /// <summary>
    /// .NET's logging section: <c>Logging__LogLevel__&lt;category&gt;=Warning</c> sets the lowest level logged for a
    /// category (<c>Default</c> for all).
    /// </summary>
    public const string Logging = "Logging";

    // FC's lifecycle hooks and SIGTERM (FcHandler/Fc/).
    public const string PreStopTimeout = "PRE_STOP_TIMEOUT";
    public const string WarmupTimeout = "WARMUP_TIMEOUT";
    public const string IdleTrimAfter = "IDLE_TRIM_AFTER";

    /// <summary><c>on</c>: honour <c>x-fc-control-path</c> outside FC, for local emulation (<see cref="Fc.FcOptions.FcEmulation"/>).</summary>
    public const string ProxyFcEmulation = "PROXY_FC_EMULATION";

    /// <summary><c>1</c>: start-up milestones on stderr (<see cref="Diagnostics.StartupTrace"/>).</summary>
    public const string StartupTrace = "FCHANDLER_STARTUP_TRACE";

    // Access control and client limits (FcHandler/Access/).
    public const string OpenAIApiKey = "OPENAI_API_KEY";
    public const string OpenAIApiKeys = "OPENAI_API_KEYS";
    public const string ProxyAccessTokens = "PROXY_ACCESS_TOKENS";
    public const string ProxyTokenSecret = "PROXY_TOKEN_SECRET";
    public const string ProxyRevokedTokenIds = "PROXY_REVOKED_TOKEN_IDS";
    public const string MaxRequestBodyMb = "MAX_REQUEST_BODY_MB";
    public const string ClientTimeout = "CLIENT_TIMEOUT";
    public const string TempStorageMb = "TEMP_STORAGE_MB";
    public const string TempStorageDir = "TEMP_STORAGE_DIR";

    // Rate limits and budgets (FcHandler/Limits/).
    public const string LimitsStore = "LIMITS_STORE";
    public const string LimitsStoreFailure = "LIMITS_STORE_FAILURE";
    public const string LimitsStoreTimeout = "LIMITS_STORE_TIMEOUT";
    public const string LimitsStoreCaFile = "LIMITS_STORE_CA_FILE";
    public const string LimitsDefault = "LIMITS_DEFAULT";
    public const string LimitsBySubject = "LIMITS_BY_SUBJECT";
    public const string LimitsDefaultOutputTokens = "LIMITS_DEFAULT_OUTPUT_TOKENS";
    public const string LimitsUtcOffset = "LIMITS_UTC_OFFSET";
    public const string LimitsFitCap = "LIMITS_FIT_CAP";

    /// <summary>
    /// Set by FC itself in the instance, never by the operator.
    /// https://www.alibabacloud.com/help/ja/functioncompute/fc/environment-variables
    /// </summary>
    internal static class SetByFc
    {
        public const string CustomListenPort = "FC_CUSTOM_LISTEN_PORT";

        /// <summary>FC's local emulator's port variable (the fc3 component's <c>s local</c>).</summary>
        public const string ServerPort = "FC_SERVER_PORT";

        public const string FunctionName = "FC_FUNCTION_NAME";
        public const string FunctionHandler = "FC_FUNCTION_HANDLER";
        public const string FunctionMemorySize = "FC_FUNCTION_MEMORY_SIZE";
        public const string Region = "FC_REGION";
        public const string AccountId = "FC_ACCOUNT_ID";
        public const string InstanceId = "FC_INSTANCE_ID";

        public const string FunctionVersion = "FC_FUNCTION_VERSION";
        public const string VerId = "FC_VER_ID";

        // The function role's temporary credentials (see FcEnvironment).
        public const string AccessKeyId = "ALIBABA_CLOUD_ACCESS_KEY_ID";
        public const string AccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
        public const string SecurityToken = "ALIBABA_CLOUD_SECURITY_TOKEN";
    }

    /// <summary>
    /// .NET runtime switches build/bootstrap sets before the process starts, which the proxy reads too. The runtime
    /// reads them from the environment once, so the proxy does as well, not through <see cref="IConfiguration"/>.
    /// </summary>
    internal static class SetByBootstrap
    {
        /// <summary>Socket completions run on the I/O thread (<c>1</c>); Kestrel then runs its continuations inline too.</summary>
        public const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
    }
}

using System.Globalization;

namespace FcHandler.Fc;

/// <summary>
/// What FC tells the instance through its environment, read once at start-up.
/// https://www.alibabacloud.com/help/ja/functioncompute/fc/environment-variables
/// </summary>
internal sealed record FcEnvironment(
    string FunctionName,
    string FunctionHandler,
    int MemoryLimitInMB,
    string Region,
    string AccountId,
    string InstanceId,
    string Version,
    FcCredentials Credentials)
{
    public static FcEnvironment Read(IConfiguration configuration)
    {
        string Get(string key) => configuration[key]?.Trim() ?? "";

        return new FcEnvironment(
            Get("FC_FUNCTION_NAME"),
            Get("FC_FUNCTION_HANDLER"),
            int.TryParse(Get("FC_FUNCTION_MEMORY_SIZE"), NumberStyles.None, CultureInfo.InvariantCulture, out var memory) ? memory : 0,
            Get("FC_REGION"),
            Get("FC_ACCOUNT_ID"),
            Get("FC_INSTANCE_ID"),
            // FC_FUNCTION_VERSION on Debian 11 and later, FC_VER_ID before.
            Get("FC_FUNCTION_VERSION") is { Length: > 0 } version ? version : Get("FC_VER_ID"),
            // On custom.debian11 the security token is no longer sent as a header; the role's credentials are here.
            // https://help.aliyun.com/document_detail/2513507.html
            new FcCredentials(
                Get("ALIBABA_CLOUD_ACCESS_KEY_ID"),
                Get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
                Get("ALIBABA_CLOUD_SECURITY_TOKEN")));
    }
}

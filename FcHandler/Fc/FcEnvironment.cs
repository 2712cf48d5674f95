using System.Globalization;
using FcHandler.Hosting;

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
            Get(ConfigKeys.SetByFc.FunctionName),
            Get(ConfigKeys.SetByFc.FunctionHandler),
            int.TryParse(Get(ConfigKeys.SetByFc.FunctionMemorySize), NumberStyles.None, CultureInfo.InvariantCulture, out var memory) ? memory : 0,
            Get(ConfigKeys.SetByFc.Region),
            Get(ConfigKeys.SetByFc.AccountId),
            Get(ConfigKeys.SetByFc.InstanceId),
            // FC_FUNCTION_VERSION on Debian 11 and later, FC_VER_ID before.
            Get(ConfigKeys.SetByFc.FunctionVersion) is { Length: > 0 } version ? version : Get(ConfigKeys.SetByFc.VerId),
            // On custom.debian11 the security token is no longer sent as a header; the role's credentials are here.
            // https://help.aliyun.com/document_detail/2513507.html
            new FcCredentials(
                Get(ConfigKeys.SetByFc.AccessKeyId),
                Get(ConfigKeys.SetByFc.AccessKeySecret),
                Get(ConfigKeys.SetByFc.SecurityToken)));
    }
}

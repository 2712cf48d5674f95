namespace FcHandler.Fc;

/// <summary>
/// The request headers FC adds to every call into a custom runtime. Clients cannot send them: FC refuses x-fc-*
/// from outside (https://help.aliyun.com/document_detail/191345.html), so their presence means FC sent the request.
/// https://www.alibabacloud.com/help/zh/fc/user-guide/specification-details
/// </summary>
internal static class FcHeaders
{
    public const string RequestId = "x-fc-request-id";
    public const string ControlPath = "x-fc-control-path";

    public const string AccessKeyId = "x-fc-access-key-id";
    public const string AccessKeySecret = "x-fc-access-key-secret";
    public const string SecurityToken = "x-fc-security-token";

    public const string FunctionName = "x-fc-function-name";
    public const string FunctionHandler = "x-fc-function-handler";
    public const string FunctionMemory = "x-fc-function-memory";
    public const string FunctionTimeout = "x-fc-function-timeout";
    public const string FunctionInitializer = "x-fc-function-initializer";
    public const string InitializationTimeout = "x-fc-initialization-timeout";

    public const string Region = "x-fc-region";
    public const string AccountId = "x-fc-account-id";
    public const string Qualifier = "x-fc-qualifier";
    public const string VersionId = "x-fc-version-id";
    public const string ServiceName = "x-fc-service-name";
    public const string ServiceLogProject = "x-fc-service-logproject";
    public const string ServiceLogStore = "x-fc-service-logstore";
}

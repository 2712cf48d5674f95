namespace FcHandler.Fc;

/// <summary>
/// One request's FC context, unpacked from FC's request headers and environment. It mirrors FC's C# runtime
/// interface <c>IFcContext</c> (RequestId, FunctionParam, Credentials, Region, AccountId, ServiceMeta) so FC users
/// find what they know. Outside FC it still exists, with a generated request id and empty fields.
/// Get it with <see cref="FcContextExtensions.GetFcContext"/>.
/// </summary>
internal sealed record FcContext(
    string RequestId,
    FcControlPath ControlPath,
    FcFunctionParameter FunctionParam,
    FcCredentials Credentials,
    string Region,
    string AccountId,
    FcServiceMeta ServiceMeta,
    string InstanceId)
{
    /// <summary>True when FC itself sent the request (it carries <c>x-fc-request-id</c>).</summary>
    public bool FromFc { get; init; }
}

/// <summary>Mirrors <c>IFunctionParameter</c>.</summary>
internal sealed record FcFunctionParameter(
    string FunctionName,
    string FunctionHandler,
    string FunctionInitializer,
    int MemoryLimitInMB,
    TimeSpan FunctionTimeout,
    TimeSpan InitializationTimeout);

/// <summary>Mirrors <c>IServiceMeta</c>.</summary>
internal sealed record FcServiceMeta(string Name, string LogProject, string LogStore, string Qualifier, string VersionId);

/// <summary>
/// Mirrors <c>ICredentials</c>: FC's temporary credentials for the function's role. Held in memory only; the
/// header rules drop every x-fc-* header, so they never reach the upstream, and <see cref="ToString"/> hides them
/// so a careless log line cannot print them.
/// </summary>
internal sealed class FcCredentials(string accessKeyId, string accessKeySecret, string securityToken)
{
    public static readonly FcCredentials None = new("", "", "");

    public string AccessKeyId { get; } = accessKeyId;

    public string AccessKeySecret { get; } = accessKeySecret;

    public string SecurityToken { get; } = securityToken;

    public bool IsEmpty => AccessKeyId.Length == 0 && AccessKeySecret.Length == 0 && SecurityToken.Length == 0;

    public override string ToString() => IsEmpty ? "FcCredentials(none)" : "FcCredentials(***)";
}

/// <summary>What FC asks of the function, from <c>x-fc-control-path</c>.</summary>
internal enum FcControlPath
{
    /// <summary>An HTTP trigger or custom domain call (<c>/http-invoke</c>), or any request without the header.</summary>
    HttpInvoke,

    /// <summary>An event (API) invocation: <c>POST /invoke</c> with the event as the body.</summary>
    Invoke,

    /// <summary>The initializer hook, at most once per instance: <c>POST /initialize</c>.</summary>
    Initialize,

    /// <summary>The pre-stop hook, before FC stops the instance: <c>GET /pre-stop</c>.</summary>
    PreStop,

    /// <summary>A control path this version does not know (such as FC 2.0's <c>/pre-freeze</c>): answered 200, nothing done.</summary>
    Other,
}

internal static class FcContextExtensions
{
    /// <summary>The request's FC context; FC's C# runtime kept it in <c>HttpContext.Items["FcContext"]</c>, this keeps it as a feature.</summary>
    public static FcContext? GetFcContext(this HttpContext context) => context.Features.Get<FcContext>();
}

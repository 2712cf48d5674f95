using System.Buffers;
using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace FcHandler.Fc;

/// <summary>Unpacks a request's <see cref="FcContext"/>: FC's headers first, the instance's environment for the rest.</summary>
internal sealed class FcContextFactory(FcEnvironment environment, FcOptions options)
{
    /// <summary>Longer request ids are not FC's, and are not taken.</summary>
    public const int MaxRequestIdLength = 128;

    // FC's request ids are UUIDs or like "1-6700aa00-1a2b3c4d5e6f7a8b9c0d1e2f" (see FcHeaders);
    // the id goes into every log line and error body, so nothing else is taken from the header.
    private static readonly SearchValues<char> RequestIdChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:");

    // x-fc-control-path is FC's word only where FC is the one sending requests: in FC, FC refuses it from clients
    // (https://help.aliyun.com/document_detail/191345.html); elsewhere any client could send /pre-stop.
    private readonly bool _controlPaths = environment.FunctionName.Length > 0 || options.FcEmulation;

    public FcContext Create(HttpContext httpContext)
    {
        var headers = httpContext.Request.Headers;
        string Header(string name, string fallback = "") => headers.TryGetValue(name, out var value) && !StringValues.IsNullOrEmpty(value)
            ? value.ToString()
            : fallback;

        var requestId = Header(FcHeaders.RequestId);
        var fromFc = IsValidRequestId(requestId);

        var headerCredentials = new FcCredentials(
            Header(FcHeaders.AccessKeyId), Header(FcHeaders.AccessKeySecret), Header(FcHeaders.SecurityToken));

        return new FcContext(
            fromFc ? requestId : httpContext.TraceIdentifier,
            _controlPaths ? ParseControlPath(Header(FcHeaders.ControlPath)) : FcControlPath.HttpInvoke,
            new FcFunctionParameter(
                Header(FcHeaders.FunctionName, environment.FunctionName),
                Header(FcHeaders.FunctionHandler, environment.FunctionHandler),
                Header(FcHeaders.FunctionInitializer),
                ParseInt(Header(FcHeaders.FunctionMemory)) ?? environment.MemoryLimitInMB,
                TimeSpan.FromSeconds(ParseInt(Header(FcHeaders.FunctionTimeout)) ?? 0),
                TimeSpan.FromSeconds(ParseInt(Header(FcHeaders.InitializationTimeout)) ?? 0)),
            headerCredentials.IsEmpty ? environment.Credentials : headerCredentials,
            Header(FcHeaders.Region, environment.Region),
            Header(FcHeaders.AccountId, environment.AccountId),
            new FcServiceMeta(
                Header(FcHeaders.ServiceName),
                Header(FcHeaders.ServiceLogProject),
                Header(FcHeaders.ServiceLogStore),
                Header(FcHeaders.Qualifier),
                Header(FcHeaders.VersionId, environment.Version)),
            environment.InstanceId)
        {
            FromFc = fromFc,
        };
    }

    /// <summary>
    /// An id fit for a log line: letters, digits and <c>-_.:</c>, at most <see cref="MaxRequestIdLength"/>. Anything
    /// else in <c>x-fc-request-id</c> (JSON, a line break) came from a client, not FC, and the proxy's own id is used.
    /// </summary>
    internal static bool IsValidRequestId(string id)
        => id.Length is > 0 and <= MaxRequestIdLength && id.AsSpan().IndexOfAnyExcept(RequestIdChars) < 0;

    internal static FcControlPath ParseControlPath(string value) => value switch
    {
        "" or "/http-invoke" => FcControlPath.HttpInvoke,
        "/invoke" => FcControlPath.Invoke,
        "/initialize" => FcControlPath.Initialize,
        "/pre-stop" => FcControlPath.PreStop,
        _ => FcControlPath.Other,
    };

    private static int? ParseInt(string value)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null;
}

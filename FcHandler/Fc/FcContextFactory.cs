using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace FcHandler.Fc;

/// <summary>Unpacks a request's <see cref="FcContext"/>: FC's headers first, the instance's environment for the rest.</summary>
internal sealed class FcContextFactory(FcEnvironment environment)
{
    public FcContext Create(HttpContext httpContext)
    {
        var headers = httpContext.Request.Headers;
        string Header(string name, string fallback = "") => headers.TryGetValue(name, out var value) && !StringValues.IsNullOrEmpty(value)
            ? value.ToString()
            : fallback;

        var requestId = Header(FcHeaders.RequestId);
        var fromFc = requestId.Length > 0;

        var headerCredentials = new FcCredentials(
            Header(FcHeaders.AccessKeyId), Header(FcHeaders.AccessKeySecret), Header(FcHeaders.SecurityToken));

        return new FcContext(
            fromFc ? requestId : httpContext.TraceIdentifier,
            ParseControlPath(Header(FcHeaders.ControlPath)),
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

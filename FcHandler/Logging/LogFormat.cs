using FcHandler.Hosting;

namespace FcHandler.Logging;

/// <summary>How log lines are written (<c>LOG_FORMAT</c>).</summary>
internal enum LogFormat
{
    /// <summary><c>2026-11-26T08:31:38.698Z info AccessLogMiddleware[1] POST /v1/chat/completions ...</c>: for reading.</summary>
    Text,

    /// <summary>One JSON object per line, which FC's log service can index field by field: for querying.</summary>
    Json,
}

/// <summary>Reads <c>LOG_FORMAT</c>.</summary>
internal static class LogFormats
{
    /// <summary>
    /// <c>json</c> or <c>text</c>; unset, JSON inside FC (its log service is where lines are queried) and text
    /// elsewhere (a terminal is where they are read).
    /// </summary>
    public static LogFormat Read(IConfiguration configuration) => configuration[ConfigKeys.LogFormat]?.Trim().ToLowerInvariant() switch
    {
        null or "" => string.IsNullOrEmpty(configuration[ConfigKeys.SetByFc.FunctionName]) ? LogFormat.Text : LogFormat.Json,
        "json" => LogFormat.Json,
        "text" => LogFormat.Text,
        var other => throw new ConfigurationException($"{ConfigKeys.LogFormat} must be json or text; got '{other}'."),
    };
}

using FcHandler.Logging;

namespace FcHandler.Hosting;

/// <summary>
/// The line that says why the proxy cannot start, in the log format it would have used, so FC's log service shows it
/// like any other line (<c>level</c> critical, <c>event</c> startup_failed).
/// </summary>
internal static class StartupFailure
{
    /// <summary>The line's event name, as the [LoggerMessage] lines name theirs.</summary>
    public const string EventName = "StartupFailed";

    public static string Line(string reason)
    {
        var message = $"FcHandler cannot start: {reason}";
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        try
        {
            return LogFormats.Read(configuration) == LogFormat.Json
                ? JsonLogLine.FormatMessage(LogLevel.Critical, EventName, message)
                : message + "\n";
        }
        catch (ConfigurationException)
        {
            return message + "\n"; // LOG_FORMAT itself is the bad setting
        }
    }
}

namespace FcHandler.Logging;

/// <summary>Where the log lines go.</summary>
internal sealed class LogOutputOptions
{
    /// <summary>
    /// Write to stderr instead of stdout. False by default: FC collects stdout. The <c>invoke</c> command sets it, so its
    /// stdout carries the response event alone.
    /// </summary>
    public bool StandardError { get; set; }

    /// <summary>Text or JSON lines (<c>LOG_FORMAT</c>). Text by default; JSON by default inside FC (see <see cref="LogFormats.Read"/>).</summary>
    public LogFormat Format { get; set; }
}

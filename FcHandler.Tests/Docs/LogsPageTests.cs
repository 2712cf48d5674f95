using System.Reflection;
using System.Text.Json;
using FcHandler.Hosting;
using FcHandler.Logging;

namespace FcHandler.Tests.Docs;

/// <summary>docs/logs-and-usage.md names only events the proxy logs, as its JSON lines name them.</summary>
public sealed class LogsPageTests
{
    [Fact]
    public void EventsTable_Names_AreEventsTheProxyLogs()
    {
        var logged = typeof(ProxyLog).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Select(method => method.GetCustomAttribute<LoggerMessageAttribute>()?.EventName)
            .OfType<string>()
            .Append(StartupFailure.EventName)
            .Select(JsonNamingPolicy.SnakeCaseLower.ConvertName)
            .ToHashSet(StringComparer.Ordinal);
        var documented = MarkdownPage.Doc("logs-and-usage.md").TableUnder("Other lines")
            .SelectMany(row => MarkdownPage.CodeSpans(row[0]))
            .ToArray();

        Assert.NotEmpty(documented);
        Assert.All(documented, name => Assert.Contains(name, logged));
    }
}

using System.Reflection;
using System.Text.Json;
using FcHandler.Hosting;
using FcHandler.Logging;

namespace FcHandler.Tests.Docs;

/// <summary>docs/logs-and-usage.md and its Chinese translation name only events the proxy logs, as its JSON lines name them.</summary>
public sealed class LogsPageTests
{
    [Theory]
    [InlineData("logs-and-usage.md", "Other lines")]
    [InlineData("zh-CN/logs-and-usage.md", "其他日志行")]
    public void EventsTable_Names_AreEventsTheProxyLogs(string page, string heading)
    {
        var logged = typeof(ProxyLog).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Select(method => method.GetCustomAttribute<LoggerMessageAttribute>()?.EventName)
            .OfType<string>()
            .Append(StartupFailure.EventName)
            .Select(JsonNamingPolicy.SnakeCaseLower.ConvertName)
            .ToHashSet(StringComparer.Ordinal);
        var documented = MarkdownPage.Doc(page).TableUnder(heading)
            .SelectMany(row => MarkdownPage.CodeSpans(row[0]))
            .ToArray();

        Assert.NotEmpty(documented);
        Assert.All(documented, name => Assert.Contains(name, logged));
    }
}

using System.Text.Json.Nodes;
using FcHandler.Tests.Deployment;

namespace FcHandler.Tests.Docs;

/// <summary>
/// docs/console.md and its Chinese translation against template.yml: every table row that names a path of the
/// template's function props (its last column) shows in its value column what the template sets there, so the console
/// route makes the function that <c>s deploy</c> makes.
/// </summary>
public sealed class ConsolePageTests
{
    [Theory]
    [InlineData("console.md")]
    [InlineData("zh-CN/console.md")]
    public void ConsoleTables_RowsNamingATemplatePath_ShowTheTemplatesValue(string page)
    {
        var props = DeploymentTemplate.LoadProps();
        var rows = MarkdownPage.Doc(page).AllTableRows()
            .Select(row => (Cells: row, Path: MarkdownPage.CodeSpans(row[^1]).SingleOrDefault()))
            .Where(row => row.Path is not null)
            .ToList();

        Assert.True(rows.Count >= 25, $"only {rows.Count} rows name a template.yml path");
        Assert.All(rows, row =>
        {
            var node = row.Path!.Split('.').Aggregate((JsonNode?)props, (current, part)
                => int.TryParse(part, out var index) ? current?.AsArray()[index] : current?[part]);
            Assert.True(node is not null, $"template.yml sets no {row.Path}");
            var shown = MarkdownPage.CodeSpans(row.Cells[^2]).ToList();
            switch (node)
            {
                case JsonArray values:
                    Assert.Equal(values.Select(value => value!.ToString()).Order(StringComparer.Ordinal), shown.Order(StringComparer.Ordinal));
                    break;
                case JsonValue value:
                    Assert.Contains(value.ToString(), shown);
                    break;
            }
        });
    }

    [Theory]
    [InlineData("console.md")]
    [InlineData("zh-CN/console.md")]
    public void ConsolePage_LifecycleHooksAndHealthCheck_AreAllThere(string page)
    {
        var paths = MarkdownPage.Doc(page).AllTableRows().SelectMany(row => MarkdownPage.CodeSpans(row[^1])).ToHashSet(StringComparer.Ordinal);
        var props = DeploymentTemplate.LoadProps();

        var expected = new[] { "initializer", "preStop" }
            .SelectMany(hook => props["instanceLifecycleConfig"]![hook]!.AsObject().Select(pair => $"instanceLifecycleConfig.{hook}.{pair.Key}"))
            .Concat(props["customRuntimeConfig"]!["healthCheckConfig"]!.AsObject().Select(pair => $"customRuntimeConfig.healthCheckConfig.{pair.Key}"));
        Assert.All(expected, path => Assert.Contains(path, paths));
    }
}

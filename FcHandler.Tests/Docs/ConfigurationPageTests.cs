using System.Reflection;
using System.Text.RegularExpressions;
using FcHandler.Hosting;
using FcHandler.Tests.Deployment;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Docs;

/// <summary>
/// docs/configuration.md against what the code reads: its settings table is exactly the operator's settings in
/// <see cref="ConfigKeys"/>, its FC table exactly <see cref="ConfigKeys.SetByFc"/>, its bootstrap table exactly what
/// build/bootstrap exports (the three tables of docs/zh-CN/configuration.md too); no setting is read by a name outside
/// ConfigKeys; and template.yml and deploy.ps1 pass the settings the page says they pass.
/// </summary>
public sealed partial class ConfigurationPageTests
{
    private static readonly MarkdownPage Page = MarkdownPage.Doc("configuration.md");
    private static readonly MarkdownPage ChinesePage = MarkdownPage.Doc("zh-CN/configuration.md");

    internal static string[] Constants(Type type)
        => [.. type.GetFields(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(field => field.IsLiteral && field.FieldType == typeof(string))
            .Select(field => (string)field.GetRawConstantValue()!)
            .Order(StringComparer.Ordinal)];

    private static string[] OperatorSettings => Constants(typeof(ConfigKeys));

    // A row names one or more variables, each as a code span in its first cell. A configuration section is written the
    // way it is set, Logging__LogLevel__<category>: the code reads the section, Logging.
    private static string[] Names(IEnumerable<string[]> rows)
        => [.. rows.SelectMany(row => MarkdownPage.CodeSpans(row[0])).Select(name => name.Split("__")[0]).Order(StringComparer.Ordinal)];

    [Theory]
    [InlineData("configuration.md", "Settings")]
    [InlineData("zh-CN/configuration.md", "设置项")]
    public void SettingsTable_Names_AreExactlyTheOperatorSettingsInConfigKeys(string page, string heading)
    {
        var documented = Names(MarkdownPage.Doc(page).TableUnder(heading));

        Assert.NotEmpty(OperatorSettings);
        Assert.Equal(OperatorSettings, documented);
    }

    [Theory]
    [InlineData("configuration.md", "Set by Function Compute")]
    [InlineData("zh-CN/configuration.md", "由函数计算设置")]
    public void FcTable_Names_AreExactlyTheVariablesFcSets(string page, string heading)
    {
        var documented = Names(MarkdownPage.Doc(page).TableUnder(heading));

        Assert.Equal(Constants(typeof(ConfigKeys.SetByFc)), documented);
    }

    [Theory]
    [InlineData("configuration.md", "Set by bootstrap")]
    [InlineData("zh-CN/configuration.md", "由 bootstrap 设置")]
    public void BootstrapTable_Names_AreWhatBootstrapExportsBeyondTheSettings(string page, string heading)
    {
        var exported = BootstrapExports();
        var documented = Names(MarkdownPage.Doc(page).TableUnder(heading));

        Assert.Contains(ConfigKeys.UpstreamCaFile, exported); // an operator's setting, documented in the settings table
        Assert.Equal(exported.Except(OperatorSettings).Order(StringComparer.Ordinal), documented);
        Assert.Empty(Constants(typeof(ConfigKeys.SetByBootstrap)).Except(documented));
    }

    /// <summary>The variables build/bootstrap exports.</summary>
    internal static string[] BootstrapExports()
        => [.. BootstrapExport().Matches(File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, "build", "bootstrap")))
            .SelectMany(match => ExportedName().Matches(match.Groups["assignments"].Value))
            .Select(name => name.Groups["name"].Value)
            .Distinct()];

    [Fact]
    public void OtherPages_TableRows_NeverNameAVariableOfTheseTables()
    {
        var names = new[] { "Settings", "Set by Function Compute", "Set by bootstrap" }
            .SelectMany(heading => Page.TableUnder(heading))
            .SelectMany(row => MarkdownPage.CodeSpans(row[0]))
            .ToHashSet(StringComparer.Ordinal);

        var rows = MarkdownPage.Site()
            .Where(page => page.Path != Page.Path && page.Path != ChinesePage.Path)
            .SelectMany(page => page.AllTableRows()
                .Where(row => MarkdownPage.NameCell(row[0]).Any(names.Contains))
                .Select(row => $"{page.Name}: {row[0]}"));

        Assert.Empty(rows);
    }

    [Fact]
    public void Source_SettingNameLiterals_AreOnlyInConfigKeys()
    {
        var source = Path.Combine(Fixtures.RepositoryRoot, "FcHandler");
        var configKeys = Path.Combine(source, "Hosting", "ConfigKeys.cs");
        var files = Directory.GetFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToArray();

        var outside = files
            .Where(path => path != configKeys)
            .SelectMany(path => SettingLiteral().Matches(File.ReadAllText(path)).Select(match => $"{Path.GetFileName(path)}: {match.Value}"))
            .ToArray();

        Assert.Contains(configKeys, files);
        Assert.Empty(outside);
    }

    [Fact]
    public void SettingsTable_RowsPassedByTemplate_AreExactlyTheTemplatesEnvironmentVariables()
    {
        var passed = Page.TableUnder("Settings")
            .Where(row => row[^1].Contains("`template.yml`", StringComparison.Ordinal))
            .SelectMany(row => MarkdownPage.CodeSpans(row[0]))
            .Order(StringComparer.Ordinal);

        Assert.Equal(TemplateVariables(), passed);
        Assert.Empty(TemplateVariables().Except(OperatorSettings));
    }

    [Fact]
    public void DeployScript_SettingAndSecretNames_AreTheTemplatesEnvironmentVariables()
    {
        var script = File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, "deploy.ps1"));
        var names = ScriptNameList().Matches(script)
            .SelectMany(list => QuotedName().Matches(list.Groups["names"].Value).Select(name => name.Groups["name"].Value))
            .Order(StringComparer.Ordinal);

        Assert.Equal(TemplateVariables(), names);
    }

    private static string[] TemplateVariables()
        => [.. DeploymentTemplate.LoadProps()["environmentVariables"]!.AsObject().Select(pair => pair.Key).Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"^\s*export\s+(?<assignments>.+)$", RegexOptions.Multiline)]
    private static partial Regex BootstrapExport();

    [GeneratedRegex(@"(?:^|\s)(?<name>[A-Za-z_][A-Za-z0-9_]*)=")]
    private static partial Regex ExportedName();

    // A string literal that is a whole variable name (UPPER_CASE with an underscore), or a configuration section read by name.
    [GeneratedRegex(@"""[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+""|GetSection\(""[^""]*""\)")]
    private static partial Regex SettingLiteral();

    [GeneratedRegex(@"\$(?:SettingNames|SecretNames)\s*=\s*@\((?<names>[^)]*)\)")]
    private static partial Regex ScriptNameList();

    [GeneratedRegex(@"'(?<name>[A-Z_][A-Z0-9_]*)'")]
    private static partial Regex QuotedName();
}

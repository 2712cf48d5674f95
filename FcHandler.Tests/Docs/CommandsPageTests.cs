using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using FcHandler.Diagnostics;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Docs;

/// <summary>
/// docs/commands.md against the commands: each command <c>Program.Main</c> dispatches is a <c>...Command</c> class
/// with a <c>Usage</c> line, has a row in the page's table and its usage line on the page, and doctor's exit codes are
/// exactly <see cref="DoctorOutcome"/>'s values.
/// </summary>
public sealed partial class CommandsPageTests
{
    private static readonly MarkdownPage Page = MarkdownPage.Doc("commands.md");

    /// <summary>A command: its name in <c>args</c>, the words that invoke it, and its usage line without "usage: FcHandler ".</summary>
    internal sealed record Command(string Name, string Invocation, string Usage);

    internal static Command[] Commands()
        => [.. typeof(Program).Assembly.GetTypes()
            .Where(type => type.Name.EndsWith("Command", StringComparison.Ordinal))
            .Select(type => type.GetField("Usage", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string)
            .OfType<string>()
            .Select(usage => UsagePrefix().Replace(usage.Split('\n')[0], ""))
            .Select(line => new Command(
                line.Split(' ')[0], string.Join(' ', line.Split(' ').TakeWhile(word => char.IsAsciiLetterLower(word[0]))), line))];

    [Fact]
    public void Program_DispatchedCommands_AreTheCommandClasses()
    {
        var program = File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, "FcHandler", "Program.cs"));
        var dispatched = Dispatch().Matches(program).Select(match => match.Groups["name"].Value).Order(StringComparer.Ordinal);

        Assert.Equal(Commands().Select(command => command.Name).Order(StringComparer.Ordinal), dispatched);
    }

    [Fact]
    public void CommandsTable_Rows_AreTheProxyAndEachCommand()
    {
        var rows = Page.TableUnder("Commands and exit codes").Select(row => MarkdownPage.CodeSpans(row[0]).First());
        var expected = Commands().Select(command => $"FcHandler {command.Invocation}").Append("FcHandler");

        Assert.Equal(expected.Order(StringComparer.Ordinal), rows.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CommandsPage_EachCommandsUsageLine_AppearsAsWritten()
    {
        var text = Page.Text;

        Assert.All(Commands(), command => Assert.Contains($"FcHandler {command.Usage}", text, StringComparison.Ordinal));
    }

    [Fact]
    public void DoctorExitCodes_Table_IsExactlyDoctorOutcome()
    {
        var documented = Page.TableUnder("doctor").Select(row => int.Parse(row[0], CultureInfo.InvariantCulture));

        Assert.Equal(Enum.GetValues<DoctorOutcome>().Select(outcome => (int)outcome).Order(), documented.Order());
    }

    [GeneratedRegex(@"^usage: (FcHandler )?")]
    private static partial Regex UsagePrefix();

    [GeneratedRegex(@"args is \[""(?<name>[a-z]+)""")]
    private static partial Regex Dispatch();
}

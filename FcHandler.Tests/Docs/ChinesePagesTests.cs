using System.Text.RegularExpressions;
using FcHandler.Hosting;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Docs;

/// <summary>
/// The Chinese pages (README.zh-CN.md and docs/zh-CN/*.md) against their English pages. The rule: a Chinese page
/// translates the English page of the same name, names, as code, every setting, error code and command that its English
/// page names, and has every line of its shell blocks. The other docs tests hold the English pages (and the Chinese
/// reference tables) to the code, so a setting added to an English page and not to its translation fails here, with the
/// Chinese page and the item it lacks.
/// </summary>
public sealed partial class ChinesePagesTests
{
    /// <summary>A setting, error code or command, and how a page names it.</summary>
    private sealed record Item(string Kind, string Name, Regex Named);

    private static Item[] Items()
    {
        var settings = new[] { typeof(ConfigKeys), typeof(ConfigKeys.SetByFc), typeof(ConfigKeys.SetByBootstrap) }
            .SelectMany(ConfigurationPageTests.Constants)
            .Concat(ConfigurationPageTests.BootstrapExports())
            .Concat(new[] { "deploy.ps1", "template.yml" }
                .SelectMany(file => DeployVariable().Matches(File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, file))))
                .Select(match => match.Value))
            .Distinct(StringComparer.Ordinal)
            // A configuration section is named the way it is set: Logging__LogLevel__<category>.
            .Select(name => new Item("setting", name, name == name.ToUpperInvariant() ? Word(name) : new Regex(Regex.Escape($"{name}__"))));
        var codes = ErrorsPageTests.Errors().Select(error => error.Code).Distinct(StringComparer.Ordinal)
            .Select(code => new Item("error code", code, Word(code)));
        var commands = CommandsPageTests.Commands()
            .Select(command => new Item("command", command.Invocation, new Regex($@"(?:FcHandler |bootstrap |-- |`){Regex.Escape(command.Invocation)}(?![A-Za-z0-9_-])")));

        return [.. settings, .. codes, .. commands];
    }

    // Whole words in ASCII terms: a Chinese character next to a name does not make it part of a longer word.
    private static Regex Word(string name) => new($@"(?<![A-Za-z0-9_]){Regex.Escape(name)}(?![A-Za-z0-9_])");

    [Fact]
    public void ChinesePages_Each_TranslatesTheEnglishPageOfTheSameName()
    {
        var orphans = MarkdownPage.Chinese().Where(page => !File.Exists(page.EnglishPath)).Select(page => page.Name);

        Assert.NotEmpty(MarkdownPage.Chinese());
        Assert.Empty(orphans);
    }

    [Fact]
    public void ChinesePages_Each_NamesEverySettingErrorCodeAndCommandItsEnglishPageNames()
    {
        var items = Items();
        var lacking = MarkdownPage.Chinese().SelectMany(page =>
        {
            var english = MarkdownPage.At(page.EnglishPath);
            return items.Where(item => item.Named.IsMatch(english.Text) && !item.Named.IsMatch(page.Text))
                .Select(item => $"{page.Name} lacks the {item.Kind} `{item.Name}`, which {english.Name} names");
        }).ToList();

        Assert.True(items.Length > 60, $"only {items.Length} settings, error codes and commands to look for");
        Assert.True(lacking.Count == 0, $"Chinese pages behind their English pages:\n{string.Join('\n', lacking)}");
    }

    /// <summary>The same set-up and deploy steps: each command line of the English page's shell blocks, comment aside.</summary>
    [Fact]
    public void ChinesePages_Each_HasEveryShellLineOfItsEnglishPage()
    {
        var lacking = MarkdownPage.Chinese().SelectMany(page =>
        {
            var english = MarkdownPage.At(page.EnglishPath);
            var translated = ShellLines(page).ToHashSet(StringComparer.Ordinal);
            return ShellLines(english).Where(line => !translated.Contains(line)).Select(line => $"{page.Name} lacks `{line}`, which {english.Name} runs");
        }).ToList();

        Assert.NotEmpty(ShellLines(MarkdownPage.Readme()));
        Assert.True(lacking.Count == 0, $"Chinese pages behind their English pages:\n{string.Join('\n', lacking)}");
    }

    // The lines of ```sh blocks, each without its trailing comment (the part a translation may translate).
    private static IEnumerable<string> ShellLines(MarkdownPage page)
    {
        var inShell = false;
        foreach (var line in page.Lines)
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith("```", StringComparison.Ordinal))
            {
                inShell = !inShell && trimmed == "```sh";
                continue;
            }

            var command = ShellComment().Replace(trimmed, "");
            if (inShell && command.Length > 0 && !command.StartsWith('#'))
            {
                yield return command;
            }
        }
    }

    [Fact]
    public void ChinesePages_CommandsTheyRun_AreCommandsOfTheBinary()
    {
        var invocations = CommandsPageTests.Commands().Select(command => command.Invocation).ToHashSet(StringComparer.Ordinal);

        var unknown = MarkdownPage.Chinese().SelectMany(page => CommandLine()
            .Matches(page.Text.Replace("FcHandler cannot start", "", StringComparison.Ordinal)) // the start-up failure line
            .Where(match => !invocations.Contains(match.Groups["command"].Value)
                && !invocations.Contains($"{match.Groups["command"].Value} {match.Groups["sub"].Value}"))
            .Select(match => $"{page.Name}: {match.Value}"))
            .ToList();

        Assert.True(unknown.Count == 0, $"commands the binary does not have:\n{string.Join('\n', unknown)}");
    }

    [Fact]
    public void Readmes_FirstLines_LinkToEachOther()
    {
        static string Top(MarkdownPage page) => string.Join('\n', page.Prose.Take(4));

        Assert.Contains("(README.zh-CN.md)", Top(MarkdownPage.Readme()), StringComparison.Ordinal);
        Assert.Contains("(README.md)", Top(MarkdownPage.ChineseReadme()), StringComparison.Ordinal);
    }

    [Fact]
    public void ChineseReadme_Links_EveryChinesePage()
    {
        var linked = MarkdownPage.ChineseReadme().Links().Select(link => link.Target.Split('#')[0]).ToHashSet(StringComparer.Ordinal);
        var unlinked = Directory.GetFiles(MarkdownPage.ChineseDocsDirectory, "*.md")
            .Select(path => $"docs/zh-CN/{Path.GetFileName(path)}")
            .Where(page => !linked.Contains(page))
            .ToList();

        Assert.True(unlinked.Count == 0, $"README.zh-CN.md does not link {string.Join(", ", unlinked)}");
    }

    /// <summary>
    /// A reader of Chinese is told before following a link that it leads to English, and is never sent to English where
    /// a Chinese page exists, except from a page to its own original.
    /// </summary>
    [Fact]
    public void ChinesePages_LinksToEnglishPages_SayEnglishAndOnlyWhereNoTranslationExists()
    {
        var wrong = new List<string>();
        foreach (var page in MarkdownPage.Chinese())
        {
            foreach (var (line, text) in page.Prose.Select((text, i) => (i + 1, text)))
            {
                foreach (Match link in LinkWithWhatFollows().Matches(text))
                {
                    var target = link.Groups["target"].Value.Split('#')[0];
                    if (target.Length == 0 || target.Contains("://", StringComparison.Ordinal) || !target.EndsWith(".md", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page.Path)!, target));
                    if (path.StartsWith(MarkdownPage.ChineseDocsDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal)
                        || path == MarkdownPage.ChineseReadme().Path)
                    {
                        continue;
                    }

                    var translation = Path.GetDirectoryName(path) == MarkdownPage.DocsDirectory
                        ? Path.Combine(MarkdownPage.ChineseDocsDirectory, Path.GetFileName(path))
                        : path == MarkdownPage.Readme().Path ? MarkdownPage.ChineseReadme().Path : null;
                    if (translation is not null && File.Exists(translation) && path != page.EnglishPath)
                    {
                        wrong.Add($"{page.Name}:{line}: {target} has a Chinese page, {Path.GetRelativePath(Fixtures.RepositoryRoot, translation)}");
                    }
                    else if (!link.Groups["text"].Value.Contains("English", StringComparison.Ordinal)
                        && !link.Groups["after"].Value.Contains("English", StringComparison.Ordinal))
                    {
                        wrong.Add($"{page.Name}:{line}: {target} is English and the link does not say so: add \"(English)\"");
                    }
                }
            }
        }

        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [GeneratedRegex(@"\s+#.*$")]
    private static partial Regex ShellComment();

    [GeneratedRegex("DEPLOY_[A-Z0-9_]*[A-Z0-9]")]
    private static partial Regex DeployVariable();

    // FcHandler, ./bootstrap or `dotnet run ... --` and the words of a command after it.
    [GeneratedRegex(@"(?:FcHandler|bootstrap|--) (?<command>[a-z]+)(?: (?<sub>[a-z]+))?")]
    private static partial Regex CommandLine();

    [GeneratedRegex(@"\[(?<text>[^\]]*)\]\((?<target>[^)\s]+)\)(?<after>[^\[]{0,12})")]
    private static partial Regex LinkWithWhatFollows();
}

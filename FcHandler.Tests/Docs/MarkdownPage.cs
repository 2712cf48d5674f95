using System.Text;
using System.Text.RegularExpressions;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Docs;

/// <summary>
/// A page of the documentation (README.md or docs/*.md, or their Chinese translations README.zh-CN.md and
/// docs/zh-CN/*.md) read the way GitHub renders it, as far as the tests need:
/// its headings and their anchors, its tables, and its links, with fenced code blocks and code spans left out where
/// they would be mistaken for either.
/// </summary>
internal sealed partial class MarkdownPage
{
    private MarkdownPage(string path)
    {
        Path = path;
        var lines = File.ReadAllLines(path);
        var prose = new string[lines.Length];
        var fenced = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var fence = lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal);
            fenced ^= fence;
            prose[i] = fence || fenced ? "" : lines[i];
        }

        Lines = lines;
        Prose = prose;
    }

    public string Path { get; }

    public string Name => System.IO.Path.GetRelativePath(Fixtures.RepositoryRoot, Path);

    /// <summary>The page as written.</summary>
    public IReadOnlyList<string> Lines { get; }

    /// <summary>The page with the lines of fenced code blocks blanked, so line numbers still match.</summary>
    public IReadOnlyList<string> Prose { get; }

    public string Text => string.Join('\n', Lines);

    /// <summary>README.md and every page under docs/.</summary>
    public static IReadOnlyList<MarkdownPage> All()
        => [Readme(), .. Directory.GetFiles(DocsDirectory, "*.md").Order(StringComparer.Ordinal).Select(path => new MarkdownPage(path))];

    /// <summary>The Chinese pages: README.zh-CN.md and every page under docs/zh-CN/.</summary>
    public static IReadOnlyList<MarkdownPage> Chinese()
        => [ChineseReadme(), .. Directory.GetFiles(ChineseDocsDirectory, "*.md").Order(StringComparer.Ordinal).Select(path => new MarkdownPage(path))];

    /// <summary>Every page of the documentation, English and Chinese.</summary>
    public static IReadOnlyList<MarkdownPage> Site() => [.. All(), .. Chinese()];

    public static MarkdownPage Readme() => new(System.IO.Path.Combine(Fixtures.RepositoryRoot, "README.md"));

    public static MarkdownPage ChineseReadme() => new(System.IO.Path.Combine(Fixtures.RepositoryRoot, "README.zh-CN.md"));

    /// <summary>A page under docs/, such as <c>errors.md</c> or its translation <c>zh-CN/errors.md</c>.</summary>
    public static MarkdownPage Doc(string name) => new(System.IO.Path.Combine(DocsDirectory, name));

    /// <summary>Any markdown file of the repository, such as bench/README.md, which the pages link into.</summary>
    public static MarkdownPage At(string path) => new(path);

    public static string DocsDirectory => System.IO.Path.Combine(Fixtures.RepositoryRoot, "docs");

    public static string ChineseDocsDirectory => System.IO.Path.Combine(DocsDirectory, "zh-CN");

    /// <summary>The English page a Chinese page translates: README.md for README.zh-CN.md, docs/x.md for docs/zh-CN/x.md.</summary>
    public string EnglishPath
        => System.IO.Path.GetFileName(Path) == "README.zh-CN.md"
            ? Readme().Path
            : System.IO.Path.Combine(DocsDirectory, System.IO.Path.GetFileName(Path));

    /// <summary>The anchors GitHub gives the page's headings, a repeated one suffixed -1, -2, ...</summary>
    public IReadOnlySet<string> Anchors()
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var heading in Prose.Select(line => HeadingLine().Match(line)).Where(match => match.Success))
        {
            var slug = Slug(heading.Groups["text"].Value);
            var unique = slug;
            for (var n = 1; !anchors.Add(unique); n++)
            {
                unique = $"{slug}-{n}";
            }
        }

        return anchors;
    }

    /// <summary>GitHub's anchor for a heading: its text as rendered, lower-cased, without punctuation, spaces as hyphens.</summary>
    public static string Slug(string heading)
    {
        var text = LinkMarkup().Replace(heading.Trim(), "${text}").Replace("`", "", StringComparison.Ordinal);
        var slug = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
        {
            if (c == ' ')
            {
                slug.Append('-');
            }
            else if (char.IsLetterOrDigit(c) || c is '-' or '_')
            {
                slug.Append(c);
            }
        }

        return slug.ToString();
    }

    /// <summary>The body rows of the first table after the heading named <paramref name="heading"/>, as cells.</summary>
    public IReadOnlyList<string[]> TableUnder(string heading)
    {
        var start = Prose.ToList().FindIndex(line => HeadingLine().Match(line) is { Success: true } match && match.Groups["text"].Value.Trim() == heading);
        Assert.True(start >= 0, $"{Name} has no heading '{heading}'");
        var rows = Tables(start + 1).FirstOrDefault();
        Assert.True(rows is not null, $"{Name} has no table under '{heading}'");
        return rows;
    }

    /// <summary>The body rows of every table on the page.</summary>
    public IEnumerable<string[]> AllTableRows() => Tables(0).SelectMany(rows => rows);

    private IEnumerable<List<string[]>> Tables(int from)
    {
        List<string[]>? rows = null;
        for (var i = from; i < Prose.Count; i++)
        {
            var line = Prose[i].Trim();
            if (!line.StartsWith('|'))
            {
                if (rows is not null)
                {
                    yield return rows;
                    rows = null;
                }

                continue;
            }

            // A table is a header row, a separator row, then its body.
            if (rows is null)
            {
                if (i + 1 < Prose.Count && SeparatorRow().IsMatch(Prose[i + 1].Trim()))
                {
                    rows = [];
                    i++;
                }

                continue;
            }

            rows.Add(Cells(line));
        }

        if (rows is not null)
        {
            yield return rows;
        }
    }

    /// <summary>A table row's cells, trimmed; a '|' inside a code span does not end a cell.</summary>
    public static string[] Cells(string row)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var inCode = false;
        foreach (var c in row.Trim().Trim('|'))
        {
            if (c == '`')
            {
                inCode = !inCode;
            }

            if (c == '|' && !inCode)
            {
                cells.Add(cell.ToString().Trim());
                cell.Clear();
                continue;
            }

            cell.Append(c);
        }

        cells.Add(cell.ToString().Trim());
        return [.. cells];
    }

    /// <summary>The code spans of a cell: `A`, `B` gives A and B.</summary>
    public static IEnumerable<string> CodeSpans(string cell) => CodeSpan().Matches(cell).Select(match => match.Groups["code"].Value);

    /// <summary>The code spans of a cell that holds nothing else, such as a reference table's name cell; else none.</summary>
    public static IEnumerable<string> NameCell(string cell)
        => string.IsNullOrWhiteSpace(CodeSpan().Replace(cell, "").Replace(",", "", StringComparison.Ordinal)) ? CodeSpans(cell) : [];

    /// <summary>Every link and image target outside code, with the line it is on.</summary>
    public IEnumerable<(int Line, string Target)> Links()
        => Prose.SelectMany((line, i) => LinkTargets(line).Select(target => (i + 1, target)));

    /// <summary>The link and image targets in a piece of text, outside code spans.</summary>
    public static IEnumerable<string> LinkTargets(string text)
        => LinkMarkup().Matches(CodeSpan().Replace(text, "")).Select(link => link.Groups["target"].Value);

    [GeneratedRegex(@"^#{1,6}\s+(?<text>.+?)\s*#*$")]
    private static partial Regex HeadingLine();

    [GeneratedRegex(@"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")]
    private static partial Regex SeparatorRow();

    [GeneratedRegex(@"`(?<code>[^`]+)`")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"!?\[(?<text>[^\]]*)\]\((?<target>[^)\s]+)(\s+""[^""]*"")?\)")]
    private static partial Regex LinkMarkup();
}

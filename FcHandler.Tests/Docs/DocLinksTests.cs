namespace FcHandler.Tests.Docs;

/// <summary>
/// The documentation as a site: every relative link in README.md, docs/*.md and their Chinese translations reaches a
/// file, or a heading of a page, that exists, and the README's map names every page under docs/.
/// </summary>
public sealed class DocLinksTests
{
    [Fact]
    public void Links_EveryRelativeLink_PointsToAnExistingFileOrHeading()
    {
        var pages = MarkdownPage.Site();
        var anchors = pages.ToDictionary(page => Path.GetFullPath(page.Path), page => page.Anchors());

        var broken = new List<string>();
        var checkedLinks = 0;
        foreach (var page in pages)
        {
            foreach (var (line, target) in page.Links().Where(link => !link.Target.Contains("://", StringComparison.Ordinal)
                && !link.Target.StartsWith("mailto:", StringComparison.Ordinal)))
            {
                checkedLinks++;
                var hash = target.IndexOf('#');
                var file = hash < 0 ? target : target[..hash];
                var anchor = hash < 0 ? null : target[(hash + 1)..];
                var path = file.Length == 0 ? page.Path : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page.Path)!, Uri.UnescapeDataString(file)));

                if (!File.Exists(path) && !Directory.Exists(path))
                {
                    broken.Add($"{page.Name}:{line}: {target}: no such file");
                }
                else if (anchor is not null && !HeadingsOf(Path.GetFullPath(path)).Contains(anchor))
                {
                    broken.Add($"{page.Name}:{line}: {target}: no such heading");
                }
            }
        }

        Assert.True(checkedLinks > 0);
        Assert.True(broken.Count == 0, $"broken links:\n{string.Join('\n', broken)}");

        // A page outside docs/ that a page links into (bench/README.md) is read when first linked to.
        IReadOnlySet<string> HeadingsOf(string path)
        {
            if (!anchors.TryGetValue(path, out var headings))
            {
                headings = path.EndsWith(".md", StringComparison.Ordinal) ? MarkdownPage.At(path).Anchors() : new HashSet<string>();
                anchors[path] = headings;
            }

            return headings;
        }
    }

    [Fact]
    public void Readme_DocumentationMap_LinksEveryDocsPage()
    {
        var linked = MarkdownPage.Readme().TableUnder("Documentation")
            .SelectMany(row => MarkdownPage.LinkTargets(row[0]))
            .Order(StringComparer.Ordinal);
        var pages = Directory.GetFiles(MarkdownPage.DocsDirectory, "*.md").Select(path => $"docs/{Path.GetFileName(path)}").Order(StringComparer.Ordinal);

        Assert.Equal(pages, linked);
    }
}

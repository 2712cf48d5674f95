using System.Globalization;
using System.Reflection;
using FcHandler.Errors;

namespace FcHandler.Tests.Docs;

/// <summary>
/// docs/errors.md against <see cref="ProxyError"/>: every error the proxy can answer with is made by one of its static
/// factories, so calling each one (with placeholder arguments) gives the full list of codes, with their status and type.
/// The table lists exactly those, each once, in English and in Chinese, and no other page has a row of its own for a code.
/// </summary>
public sealed class ErrorsPageTests
{
    private static readonly MarkdownPage Page = MarkdownPage.Doc("errors.md");
    private static readonly MarkdownPage ChinesePage = MarkdownPage.Doc("zh-CN/errors.md");

    internal static ProxyError[] Errors()
        => [.. typeof(ProxyError).GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(method => method.ReturnType == typeof(ProxyError))
            .Select(method => (ProxyError)method.Invoke(null, [.. method.GetParameters().Select(Placeholder)])!)];

    private static object? Placeholder(ParameterInfo parameter) => parameter.ParameterType switch
    {
        var type when type == typeof(string) => "x",
        var type when Nullable.GetUnderlyingType(type) is not null || !type.IsValueType => null,
        var type => Activator.CreateInstance(type),
    };

    [Theory]
    [InlineData("errors.md", "Error codes")]
    [InlineData("zh-CN/errors.md", "错误码")]
    public void ErrorTable_Rows_AreExactlyProxyErrorsCodesWithTheirStatusAndType(string page, string heading)
    {
        var rows = MarkdownPage.Doc(page).TableUnder(heading);
        var documented = rows
            .Select(row => $"{int.Parse(row[0], CultureInfo.InvariantCulture)} {MarkdownPage.CodeSpans(row[1]).Single()} {MarkdownPage.CodeSpans(row[2]).Single()}")
            .Order(StringComparer.Ordinal)
            .ToArray();
        var made = Errors().Select(error => $"{error.Status} {error.Code} {error.Type}").Distinct().Order(StringComparer.Ordinal).ToArray();

        Assert.NotEmpty(made);
        Assert.Equal(made, documented);
        Assert.Equal(documented.Length, documented.Distinct().Count());
    }

    [Fact]
    public void OtherPages_TableRows_NeverHaveACellThatIsJustAnErrorCode()
    {
        var codes = Errors().Select(error => $"`{error.Code}`").ToHashSet(StringComparer.Ordinal);

        var rows = MarkdownPage.Site()
            .Where(page => page.Path != Page.Path && page.Path != ChinesePage.Path)
            .SelectMany(page => page.AllTableRows().Where(row => row.Any(codes.Contains)).Select(row => $"{page.Name}: {string.Join(" | ", row)}"));

        Assert.Empty(rows);
    }
}

using FcHandler.Proxy;

namespace FcHandler.Tests.Proxy;

public sealed class RequestTargetTests
{
    [Theory]
    [InlineData("/v1/models")]
    [InlineData("/v1/files?purpose=batch&limit=10")]
    [InlineData("/v1/files/file-abc%20def")]
    [InlineData("/v1/chat/complet%69ons")]
    [InlineData("/v1/files?after=../x")] // a query is data, not a path
    [InlineData("/v1/models/ft:gpt-4o:org:custom:abc")]
    [InlineData("/v1/files/a..b")]
    [InlineData("/v1/files/.hidden")]
    public void Check_CanonicalPath_HasNoProblem(string target)
        => Assert.Equal(TargetProblem.None, RequestTarget.Check(target));

    [Theory]
    [InlineData("/v1/../admin")]
    [InlineData("/v1/./models")]
    [InlineData("/v1/models/..")]
    [InlineData("/v1/%2e%2e/admin")]
    [InlineData("/v1/%2E%2E/admin")]
    [InlineData("/v1/.%2e/admin")]
    [InlineData("/v1/%2e./admin")]
    [InlineData("/v1/%2e/models")]
    [InlineData("/v1/%252e%252e/admin")] // double-encoded
    [InlineData("/v1/%25252e%25252e/admin")] // triple-encoded
    [InlineData("/v1%2f..%2fadmin")]
    [InlineData("/v1/files%2Fx")]
    [InlineData("/v1/files%252Fx")]
    [InlineData("/v1\\..\\admin")]
    [InlineData("/v1/%5c..%5cadmin")]
    public void Check_DotSegmentOrEncodedSeparator_IsTraversal(string target)
        => Assert.Equal(TargetProblem.PathTraversal, RequestTarget.Check(target));

    [Theory]
    [InlineData("http://evil.example/v1/models")]
    [InlineData("https://api.openai.com/v1/models")]
    [InlineData("evil.example:443")]
    [InlineData("*")]
    [InlineData("")]
    public void Check_NotOriginForm_IsRefused(string target)
        => Assert.Equal(TargetProblem.NotOriginForm, RequestTarget.Check(target));

    [Fact]
    public void Check_LongEncodedPath_IsDecodedLikeAShortOne()
    {
        // Over the stack buffer's size: the decoding passes run in a pooled buffer instead.
        var padding = string.Concat(Enumerable.Repeat("a%20", 100));
        Assert.Equal(TargetProblem.None, RequestTarget.Check("/v1/files/" + padding));
        Assert.Equal(TargetProblem.PathTraversal, RequestTarget.Check("/v1/files/" + padding + "/%252e%252e/admin"));
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/files?purpose=batch&limit=10")]
    [InlineData("/v1/files/file-abc%20def?limit=1")]
    public void Check_CanonicalPath_AllocatesNothing(string target)
    {
        RequestTarget.Check(target); // warm up: statics and JIT
        var before = GC.GetAllocatedBytesForCurrentThread();
        RequestTarget.Check(target);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

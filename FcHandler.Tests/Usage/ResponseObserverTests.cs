using System.IO.Compression;
using FcHandler.Usage;

namespace FcHandler.Tests.Usage;

public sealed class ResponseObserverTests
{
    public static TheoryData<string, string> CompressedFixtures => new()
    {
        { "chat-completion.json", "gzip" },
        { "chat-completion.json", "deflate" },
        { "chat-completion.json", "br" },
        { "responses.json", "br" },
        { "embeddings.json", "gzip" },
        { "transcription-whisper.json", "deflate" },
    };

    private static (TokenUsage? Usage, string? ErrorCode) Observe(ResponseObserver observer, params byte[][] writes)
    {
        foreach (var write in writes)
        {
            observer.Observe(write);
        }

        var (usage, _, errorCode) = observer.Complete();
        return (usage, errorCode);
    }

    internal static byte[] Compress(byte[] body, string encoding)
    {
        using var output = new MemoryStream();
        using (Stream encoder = encoding switch
        {
            "gzip" => new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true),
            "deflate" => new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true),
            _ => new BrotliStream(output, CompressionLevel.Optimal, leaveOpen: true),
        })
        {
            encoder.Write(body);
        }

        return output.ToArray();
    }

    [Theory]
    [MemberData(nameof(CompressedFixtures))]
    public void CompressedAnswer_SplitAtEveryByte_YieldsItsUsage(string fixture, string encoding)
    {
        var compressed = Compress(UsageFixtures.Bytes(fixture), encoding);

        for (var split = 0; split <= compressed.Length; split++)
        {
            var observer = ResponseObserver.For(true, 200, "application/json", encoding, false)!;
            var (usage, _) = Observe(observer, compressed[..split], compressed[split..]);
            Assert.True(UsageFixtures.Expected[fixture] == usage, $"{encoding} split at {split}: got {usage}");
        }
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    public void CompressedErrorBody_YieldsItsCode(string encoding)
    {
        var observer = ResponseObserver.For(false, 403, "application/json", encoding, false)!;

        var (_, code) = Observe(observer, Compress(UsageFixtures.Bytes("error-403-region.json"), encoding));

        Assert.Equal("unsupported_country_region_territory", code);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CompressedAnswerLargerThanTheLimit_IsDecodedOnlyUpToIt(bool usageFirst)
    {
        var usage = "\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}";
        var filler = "\"data\":\"" + new string('a', (int)BodyDecoder.MaxDecodedBytes) + "\"";
        var json = System.Text.Encoding.UTF8.GetBytes(usageFirst ? $"{{{usage},{filler}}}" : $"{{{filler},{usage}}}");
        var observer = ResponseObserver.For(true, 200, "application/json", "gzip", false)!;

        var (found, _) = Observe(observer, Compress(json, "gzip"));

        Assert.Equal(usageFirst ? new TokenUsage(8, null, null, null, 8, null) : null, found);
    }

    [Fact]
    public void BodyThatIsNotWhatItsEncodingSays_YieldsNothingAndDoesNotThrow()
    {
        var observer = ResponseObserver.For(true, 200, "application/json", "gzip", false)!;

        Assert.Equal((null, null), Observe(observer, UsageFixtures.Bytes("chat-completion.json")));
    }

    [Theory]
    [InlineData(true, 200, "audio/mpeg", null)] // speech: no usage in the body
    [InlineData(true, 200, "text/event-stream", "gzip")] // a compressed stream is not decoded
    [InlineData(false, 200, "application/json", null)] // a read of a stored answer, or a pass-through route
    [InlineData(true, 200, "application/json", "zstd")] // an encoding this proxy cannot decode
    public void ResponseWithNothingToLearn_HasNoObserver(bool readUsage, int status, string contentType, string? encoding)
        => Assert.Null(ResponseObserver.For(readUsage, status, contentType, encoding, false));

    [Fact]
    public void ErrorOnAnyRoute_IsObserved()
    {
        var observer = ResponseObserver.For(false, 429, "application/json; charset=utf-8", null, false)!;

        Assert.Equal((null, "insufficient_quota"), Observe(observer, UsageFixtures.Bytes("error-429-quota.json")));
    }
}

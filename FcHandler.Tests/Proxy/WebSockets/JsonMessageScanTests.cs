using System.Text;
using FcHandler.Proxy.WebSockets;

namespace FcHandler.Tests.Proxy.WebSockets;

/// <summary>
/// The WebSocket message scan reads what scopes and budgets decide on (type, models, output caps, a response's id and
/// usage) as a message's bytes pass. Each message is fed whole, split at every byte, and one byte at a time: the scan
/// must read the same in every chunking, since a frame can end anywhere.
/// </summary>
public sealed class JsonMessageScanTests
{
    [Fact]
    public void RealtimeResponseCreate_CapAndModel_ReadInEveryChunking()
    {
        const string message = """{"type":"response.create","response":{"model":"gpt-realtime","max_output_tokens":300,"instructions":"hi"}}""";

        AllChunkings(message, scan =>
        {
            Assert.Null(scan.Problem);
            Assert.Equal("response.create", scan.Type);
            Assert.Equal(["gpt-realtime"], scan.Models);
            Assert.Equal(300, scan.MaxOutputTokens);
        });
    }

    [Fact]
    public void RealtimeResponseCreate_CapInf_ReadsAsNoCap()
        => AllChunkings("""{"type":"response.create","response":{"max_output_tokens":"inf"}}""", scan =>
        {
            Assert.Null(scan.Problem);
            Assert.Null(scan.MaxOutputTokens);
        });

    [Fact]
    public void RealtimeResponseCreate_CapNull_ReadsAsNoCap()
        // As if absent: the session's reservation then takes the default cap, as for "inf".
        => AllChunkings("""{"type":"response.create","response":{"max_output_tokens":null}}""", scan =>
        {
            Assert.Null(scan.Problem);
            Assert.Null(scan.MaxOutputTokens);
        });

    [Fact]
    public void ResponsesCreate_TopLevelModelAndCap_AreRead()
        => AllChunkings("""{"type":"response.create","model":"gpt-5-mini","max_output_tokens":64,"input":[{"role":"user","content":"x"}]}""", scan =>
        {
            Assert.Null(scan.Problem);
            Assert.Equal("gpt-5-mini", scan.MainModel);
            Assert.Equal(64, scan.MaxOutputTokens);
        });

    [Fact]
    public void SessionUpdate_SessionAndTranscriptionModels_BothNamedMainIsTheSessions()
        => AllChunkings("""{"type":"session.update","session":{"model":"gpt-realtime","audio":{"input":{"transcription":{"model":"gpt-4o-transcribe"}}}}}""", scan =>
        {
            Assert.Null(scan.Problem);
            Assert.Equal(["gpt-realtime", "gpt-4o-transcribe"], scan.Models);
            Assert.Equal("gpt-realtime", scan.MainModel);
        });

    [Fact]
    public void ModelInsideContent_IsNotAModelTheMessageNames()
        => AllChunkings("""{"type":"conversation.item.create","item":{"content":[{"type":"input_text","text":"{\"model\":\"o1-pro\"}","model":"o1-pro"}]}}""", scan =>
        {
            Assert.Null(scan.Problem);
            Assert.Empty(scan.Models);
            Assert.Equal("conversation.item.create", scan.Type);
        });

    [Fact]
    public void EscapedModel_IsReadDecoded()
        => AllChunkings("""{"type":"response.create","model":"gpt\u002d5\u002dmini"}""", scan => Assert.Equal("gpt-5-mini", scan.MainModel));

    [Fact]
    public void EscapedKey_IsTheKeyOpenAIReads()
        // A JSON parser decodes keys before matching them; a scan that matched raw bytes would miss this model.
        => AllChunkings("""{"type":"response.create","mod\u0065l":"o1-pro"}""", scan => Assert.Equal("o1-pro", scan.MainModel));

    [Fact]
    public void SurrogatePairInAWatchedString_IsDecoded()
        => AllChunkings("""{"type":"response.create","model":"m\ud83d\ude00"}""", scan => Assert.Equal("m\U0001F600", scan.MainModel));

    [Fact]
    public void ResponseDone_IdAndUsage_AreRead()
        => AllChunkings("""{"type":"response.done","response":{"id":"resp_1","status":"completed","usage":{"total_tokens":30,"input_tokens":10,"output_tokens":20}}}""", scan =>
        {
            Assert.Null(scan.Problem);
            Assert.Equal("resp_1", scan.ResponseId);
            Assert.Equal((10L, 20L, 30L), (scan.Usage?.InputTokens, scan.Usage?.OutputTokens, scan.Usage?.TotalTokens));
        });

    [Fact]
    public void UsageOutsideTheResponse_IsNotRead()
        => AllChunkings("""{"type":"response.output_item.done","item":{"usage":{"total_tokens":1,"input_tokens":1,"output_tokens":0}}}""", scan =>
        {
            Assert.Null(scan.Problem);
            Assert.Null(scan.Usage);
        });

    [Fact]
    public void LargeAudioAppend_IsSkippedWithoutAProblem()
    {
        var audio = new string('A', 1 << 20);
        var scan = Scan("{\"type\":\"input_audio_buffer.append\",\"audio\":\"" + audio + "\"}", chunk: 4096);

        Assert.Null(scan.Problem);
        Assert.Equal("input_audio_buffer.append", scan.Type);
    }

    [Theory]
    [InlineData("""{"type":"response.create","model":"gpt-5-mini","model":"o1-pro"}""", "given twice")]
    [InlineData("""{"type":"response.create","model":"gpt-5-mini","mod\u0065l":"o1-pro"}""", "given twice")]
    [InlineData("""{"type":"response.create","type":"session.update"}""", "given twice")]
    [InlineData("""{"type":"response.create","response":{"max_output_tokens":10,"max_output_tokens":5000}}""", "given twice")]
    [InlineData("""{"type":"response.create","model":["o1-pro"]}""", "not a string")]
    [InlineData("""{"type":"response.create","model":null}""", "not a string")]
    [InlineData("""{"type":7}""", "not a string")]
    [InlineData("""{"type":"response.create","response":{"max_output_tokens":8.0}}""", "neither a whole number")]
    [InlineData("""{"type":"response.create","response":{"max_output_tokens":"8"}}""", "neither a whole number")]
    [InlineData("""["response.create"]""", "not one whole JSON object")]
    [InlineData("\"response.create\"", "not one whole JSON object")]
    [InlineData("42", "not one whole JSON object")]
    [InlineData("""{"type":"response.create"}{"type":"session.update"}""", "not one whole JSON object")]
    [InlineData("""{"type":"response.create",}""", "not one whole JSON object")]
    [InlineData("""{"type":"response.create" """, "not one whole JSON object")]
    [InlineData("", "not one whole JSON object")]
    public void AmbiguousOrMalformed_IsAProblemInEveryChunking(string message, string problem)
        => AllChunkings(message, scan => Assert.Contains(problem, scan.Problem ?? "(no problem)", StringComparison.Ordinal));

    [Fact]
    public void NestingDeeperThanTheLimit_IsAProblem()
    {
        var depth = JsonMessageScan.MaxDepth + 1;
        var message = "{\"type\":\"x\",\"a\":" + string.Concat(Enumerable.Repeat("[", depth)) + string.Concat(Enumerable.Repeat("]", depth)) + "}";

        Assert.Contains("nested too deeply", Scan(message, chunk: 7).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Reset_AfterAProblem_ReadsTheNextMessageAfresh()
    {
        var scan = new JsonMessageScan();
        Feed(scan, """{"type":"a","type":"b"}""", 3);
        Assert.NotNull(scan.Problem);

        scan.Reset();
        Feed(scan, """{"type":"response.create","model":"gpt-5-mini"}""", 3);

        Assert.Null(scan.Problem);
        Assert.Equal(["gpt-5-mini"], scan.Models);
    }

    private static void AllChunkings(string message, Action<JsonMessageScan> assert)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        assert(Scan(bytes, [bytes.Length]));
        assert(Scan(bytes, Enumerable.Repeat(1, bytes.Length)));
        for (var split = 1; split < bytes.Length; split++)
        {
            assert(Scan(bytes, [split, bytes.Length - split]));
        }
    }

    private static JsonMessageScan Scan(string message, int chunk)
    {
        var scan = new JsonMessageScan();
        Feed(scan, message, chunk);
        return scan;
    }

    private static JsonMessageScan Scan(byte[] bytes, IEnumerable<int> chunks)
    {
        var scan = new JsonMessageScan();
        var offset = 0;
        foreach (var length in chunks)
        {
            scan.Advance(bytes.AsSpan(offset, length));
            offset += length;
        }

        scan.End();
        return scan;
    }

    private static void Feed(JsonMessageScan scan, string message, int chunk)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        for (var offset = 0; offset < bytes.Length; offset += chunk)
        {
            scan.Advance(bytes.AsSpan(offset, Math.Min(chunk, bytes.Length - offset)));
        }

        scan.End();
    }
}

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
    [InlineData("""{"type":"response.create","tools":[{"type":"function","name":"f","type":"mcp"}]}""", "given twice")]
    [InlineData("""{"type":"response.create","tools":[{"type":"shell","environment":{"type":"local","typ\u0065":"container_auto"}}]}""", "given twice")]
    [InlineData("""{"type":"response.create","input":[{"type":"input_image","image_url":"data:image/png;base64,AA","image_url":"https://x/y.png"}]}""", "given twice")]
    public void AmbiguousOrMalformed_IsAProblemInEveryChunking(string message, string problem)
        => AllChunkings(message, scan => Assert.Contains(problem, scan.Problem ?? "(no problem)", StringComparison.Ordinal), readsInput: true);

    [Theory]
    // The Responses API's WebSocket mode: response.create carries a Responses body at its top level.
    [InlineData("""{"type":"response.create","model":"gpt-5","previous_response_id":"resp_1","input":"hi"}""", "stored_input", "(previous_response_id)")]
    [InlineData("""{"type":"response.create","conversation":"conv_1"}""", "stored_input", "(conversation)")]
    [InlineData("""{"type":"response.create","conversation":{"id":"conv_1"}}""", "stored_input", "(conversation)")]
    [InlineData("""{"type":"response.create","prompt":{"id":"pmpt_1","version":"2"}}""", "stored_input", "(prompt)")]
    [InlineData("""{"type":"response.create","pr\u006fmpt":{"id":"pmpt_1"}}""", "stored_input", "(prompt)")]
    [InlineData("""{"type":"response.create","input":[{"type":"item_reference","id":"msg_1"}]}""", "stored_input", "item_reference")]
    [InlineData("""{"type":"response.create","input":[{"type":"item_r\u0065ference","id":"msg_1"}]}""", "stored_input", "item_reference")]
    [InlineData("""{"type":"response.create","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}""", "stored_input", "file by id")]
    [InlineData("""{"type":"response.create","input":[{"role":"user","content":[{"type":"input_file","file\u005fid":"file-1"}]}]}""", "stored_input", "file by id")]
    [InlineData("""{"type":"response.create","input":[{"role":"user","content":[{"type":"input_file","file_url":"https://x/a.pdf"}]}]}""", "stored_input", "file by URL")]
    [InlineData("""{"type":"response.create","input":[{"role":"user","content":[{"type":"input_image","image_url":"https://x/a.png"}]}]}""", "stored_input", "image by URL")]
    [InlineData("""{"type":"response.create","input":[{"role":"user","content":[{"type":"input_image","image_url":{"url":"https://x/a.png"}}]}]}""", "stored_input", "image by URL")]
    [InlineData("""{"type":"response.create","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_image","image_url":"http://x/a.png"}]}]}""", "stored_input", "image by URL")]
    [InlineData("""{"type":"response.create","tools":[{"type":"web_search"}]}""", "hosted_tools", "(web_search)")]
    [InlineData("""{"type":"response.create","tools":[{"type":"function","name":"f","parameters":{}},{"type":"code_interpreter","container":{"type":"auto"}}]}""", "hosted_tools", "(code_interpreter)")]
    [InlineData("""{"type":"response.create","tools":[{"vector_store_ids":["vs_1"],"type":"file_search"}]}""", "hosted_tools", "(file_search)")]
    [InlineData("""{"type":"response.create","tools":[{"type":"image_generation"}]}""", "hosted_tools", "(image_generation)")]
    [InlineData("""{"type":"response.create","tools":[{"type":"shell","environment":{"type":"container_auto"}}]}""", "hosted_tools", "(shell)")]
    [InlineData("""{"type":"response.create","tools":[{"type":"tool_search"}]}""", "hosted_tools", "(tool_search)")]
    [InlineData("""{"type":"response.create","tools":[{"type":"a_tool_openai_adds_next_year"}]}""", "hosted_tools", "(a_tool_openai_adds_next_year)")]
    [InlineData("""{"type":"response.create","tools":[{"name":"f"}]}""", "hosted_tools", "(of no type)")]
    [InlineData("""{"type":"response.create","tools":[{"type":null}]}""", "hosted_tools", "(of no type)")]
    // Realtime: tools and a stored prompt in the session or the response; stored items and images by URL in what it adds.
    [InlineData("""{"type":"session.update","session":{"type":"realtime","tools":[{"type":"mcp","server_label":"x","server_url":"https://x"}]}}""", "hosted_tools", "(mcp)")]
    [InlineData("""{"type":"session.update","session":{"type":"realtime","prompt":{"id":"pmpt_1"}}}""", "stored_input", "(prompt)")]
    [InlineData("""{"type":"response.create","response":{"tools":[{"type":"mcp","server_label":"x"}]}}""", "hosted_tools", "(mcp)")]
    [InlineData("""{"type":"response.create","response":{"prompt":{"id":"pmpt_1"}}}""", "stored_input", "(prompt)")]
    [InlineData("""{"type":"response.create","response":{"conversation":"none","input":[{"type":"item_reference","id":"item_1"}]}}""", "stored_input", "item_reference")]
    [InlineData("""{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_image","image_url":"https:\/\/x\/a.png"}]}}""", "stored_input", "image by URL")]
    [InlineData("""{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_image","file_id":"file-1"}]}}""", "stored_input", "file by id")]
    public void UnmeteredInput_FoundWhereOpenAIReadsInput_InEveryChunking(string message, string spendClass, string what)
        => AllChunkings(message, scan =>
        {
            Assert.Null(scan.Problem);
            Assert.Equal(spendClass, scan.Unmetered?.Class);
            Assert.Contains(what, scan.Unmetered?.What, StringComparison.Ordinal);
        }, readsInput: true);

    [Theory]
    // A function tool's schema, metadata, text and inline data are not input by reference.
    [InlineData("""{"type":"response.create","tools":[{"type":"function","name":"f","parameters":{"type":"object","properties":{"file_id":{"type":"string"},"image_url":{"type":"mcp"},"tools":[{"type":"mcp"}]}}}]}""")]
    [InlineData("""{"type":"session.update","session":{"tools":[{"type":"function","name":"lookup","parameters":{"properties":{"file_id":{"type":"string"}}}}]}}""")]
    [InlineData("""{"type":"response.create","metadata":{"file_id":"file-1","previous_response_id":"resp_1","prompt":"x"},"instructions":"previous_response_id"}""")]
    [InlineData("""{"type":"response.create","previous_response_id":null,"conversation":null,"prompt":null,"input":"hi"}""")]
    [InlineData("""{"type":"response.create","response":{"conversation":"none","output_modalities":["text"]}}""")]
    [InlineData("""{"type":"response.create","response":{"conversation":"auto"}}""")]
    [InlineData("""{"type":"response.create","input":[{"role":"user","content":[{"type":"input_text","text":"{\"file_id\":\"f\",\"type\":\"item_reference\"}"}]}]}""")]
    [InlineData("""{"type":"response.create","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="}]}]}""")]
    [InlineData("""{"type":"response.create","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image\/png;base64,iVBORw0KGgo="}]}]}""")]
    [InlineData("""{"type":"response.create","input":[{"role":"user","content":[{"type":"input_image","image_url":"\u0064ata:image/png;base64,AA"}]}]}""")]
    [InlineData("""{"type":"response.create","input":[{"role":"user","content":[{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,AA"}]}]}""")]
    [InlineData("""{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_image","image_url":"data:image/jpeg;base64,AA"},{"type":"input_audio","audio":"AAAA"}]}}""")]
    [InlineData("""{"type":"response.create","tools":[{"type":"function","name":"f"},{"type":"custom","name":"g"},{"type":"local_shell"},{"type":"apply_patch"},{"type":"computer_use_preview"}]}""")]
    [InlineData("""{"type":"response.create","tools":[{"type":"shell"},{"type":"shell","environment":{"type":"local"}},{"type":"tool_search","execution":"client"}]}""")]
    [InlineData("""{"type":"conversation.item.create","previous_item_id":"item_1","item":{"type":"function_call_output","call_id":"c","output":"{\"file_id\":1}"}}""")]
    public void NothingUnmetered_NothingFound_InEveryChunking(string message)
        => AllChunkings(message, scan =>
        {
            Assert.Null(scan.Problem);
            Assert.Null(scan.Unmetered);
        }, readsInput: true);

    [Fact]
    public void UpstreamEvent_ToolsAndPromptOfItsResponse_AreNotReadAsInput()
        // The upstream's events echo the response's settings; only a client's messages are read for input (readsInput).
        => AllChunkings("""{"type":"response.created","response":{"id":"resp_1","prompt":{"id":"pmpt_1"},"tools":[{"type":"mcp"}]}}""", scan =>
        {
            Assert.Null(scan.Problem);
            Assert.Equal("resp_1", scan.ResponseId);
            Assert.Null(scan.Unmetered);
        });

    [Theory]
    [InlineData("data:image/png;base64,", false)]
    [InlineData("https://example.com/a.png?", true)]
    public void LargeImageUrl_ReadByItsFirstBytes_WithoutAProblem(string prefix, bool byUrl)
    {
        // Megabytes of one string: only its first bytes are kept, and they decide.
        var url = prefix + new string('A', 1 << 20);
        var scan = Scan("{\"type\":\"response.create\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\",\"image_url\":\"" + url + "\"}]}]}",
            chunk: 4096, readsInput: true);

        Assert.Null(scan.Problem);
        Assert.Equal(byUrl, scan.Unmetered is not null);
    }

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

    private static void AllChunkings(string message, Action<JsonMessageScan> assert, bool readsInput = false)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        assert(Scan(bytes, [bytes.Length], readsInput));
        assert(Scan(bytes, Enumerable.Repeat(1, bytes.Length), readsInput));
        for (var split = 1; split < bytes.Length; split++)
        {
            assert(Scan(bytes, [split, bytes.Length - split], readsInput));
        }
    }

    private static JsonMessageScan Scan(string message, int chunk, bool readsInput = false)
    {
        var scan = new JsonMessageScan(readsInput);
        Feed(scan, message, chunk);
        return scan;
    }

    private static JsonMessageScan Scan(byte[] bytes, IEnumerable<int> chunks, bool readsInput)
    {
        var scan = new JsonMessageScan(readsInput);
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

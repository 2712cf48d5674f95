using System.Text;
using FcHandler.Access;
using FcHandler.Limits;

namespace FcHandler.Tests.Limits;

/// <summary>
/// What makes a request's cost unbounded by its body: input it only refers to, and tools OpenAI runs. Each body is fed
/// whole and in 7-byte buffers, so tokens split across reads are read alike.
/// </summary>
public sealed class UnboundedInputScanTests
{
    [Theory]
    // Responses: stored input by reference.
    [InlineData(true, """{"model":"gpt-5","previous_response_id":"resp_1","input":"and then?"}""", "stored_input", "previous_response_id")]
    [InlineData(true, """{"model":"gpt-5","conversation":"conv_1","input":"hi"}""", "stored_input", "conversation")]
    [InlineData(true, """{"model":"gpt-5","conversation":{"id":"conv_1"},"input":"hi"}""", "stored_input", "conversation")]
    [InlineData(true, """{"model":"gpt-5","prompt":{"id":"pmpt_1","version":"2"}}""", "stored_input", "prompt")]
    [InlineData(true, """{"model":"gpt-5","input":[{"type":"item_reference","id":"msg_1"}]}""", "stored_input", "item_reference")]
    [InlineData(true, """{"model":"gpt-5","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}""", "stored_input", "file by id")]
    [InlineData(true, """{"model":"gpt-5","input":[{"role":"user","content":[{"type":"input_file","file_url":"https://x/a.pdf"}]}]}""", "stored_input", "file by URL")]
    [InlineData(true, """{"model":"gpt-5","input":[{"role":"user","content":[{"type":"input_image","image_url":"https://x/a.png"}]}]}""", "stored_input", "image by URL")]
    [InlineData(true, """{"model":"gpt-5","input":[{"role":"user","content":[{"type":"input_image","file_id":"file-1"}]}]}""", "stored_input", "file by id")]
    [InlineData(true, """{"model":"gpt-5","input":[{"type":"function_call_output","call_id":"c","output":[{"type":"input_image","image_url":"https://x/s.png"}]}]}""", "stored_input", "image by URL")]
    [InlineData(true, """{"model":"gpt-5","inp\u0075t":[{"type":"item_reference","id":"msg_1"}]}""", "stored_input", "item_reference")]
    // Chat: images and files by reference, an earlier audio answer.
    [InlineData(false, """{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/a.png","detail":"high"}}]}]}""", "stored_input", "image by URL")]
    [InlineData(false, """{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}""", "stored_input", "file by id")]
    [InlineData(false, """{"model":"gpt-4o-audio-preview","messages":[{"role":"assistant","audio":{"id":"audio_1"}}]}""", "stored_input", "audio")]
    // Image edits by reference.
    [InlineData(false, """{"model":"gpt-image-1","prompt":"a hat","images":[{"image_url":"https://x/a.png"}]}""", "stored_input", "image by URL")]
    [InlineData(false, """{"model":"gpt-image-1","prompt":"a hat","images":[{"file_id":"file-1"}]}""", "stored_input", "file by id")]
    // Tools OpenAI runs.
    [InlineData(true, """{"model":"gpt-5","input":"news?","tools":[{"type":"web_search"}]}""", "hosted_tools", "web_search")]
    [InlineData(true, """{"model":"gpt-5","tools":[{"type":"function","name":"f","parameters":{}},{"type":"file_search","vector_store_ids":["vs_1"]}]}""", "hosted_tools", "file_search")]
    [InlineData(true, """{"model":"gpt-5","tools":[{"type":"mcp","server_label":"x","server_url":"https://x"}]}""", "hosted_tools", "mcp")]
    [InlineData(true, """{"model":"gpt-5","tools":[{"type":"code_interpreter","container":{"type":"auto"}}]}""", "hosted_tools", "code_interpreter")]
    [InlineData(true, """{"model":"gpt-5","tools":[{"type":"image_generation"}]}""", "hosted_tools", "image_generation")]
    [InlineData(true, """{"model":"gpt-5","tools":[{"type":"shell","environment":{"type":"container_auto"}}]}""", "hosted_tools", "shell")]
    [InlineData(true, """{"model":"gpt-5","tools":[{"type":"tool_search"}]}""", "hosted_tools", "tool_search")]
    [InlineData(true, """{"model":"gpt-5","tools":[{"name":"f"}]}""", "hosted_tools", "of no type")]
    [InlineData(true, """{"model":"gpt-5","tools":[{"type":"a_tool_openai_adds_next"}]}""", "hosted_tools", "a_tool_openai_adds_next")]
    [InlineData(false, """{"model":"gpt-4o-search-preview","web_search_options":{},"messages":[]}""", "hosted_tools", "web_search_options")]
    public void UnboundedInput_IsFoundWithItsClass(bool responses, string body, string spendClass, string what)
    {
        foreach (var found in ScanAlike(responses, body))
        {
            Assert.Equal(spendClass, found?.Class);
            Assert.Contains(what, found?.What, StringComparison.Ordinal);
        }
    }

    [Theory]
    // Inline images and files: their bytes bound their tokens.
    [InlineData(true, """{"model":"gpt-5","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgo="}]}]}""")]
    [InlineData(false, """{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"DATA:image/png;base64,iVBO"}}]}]}""")]
    [InlineData(false, """{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image\/png;base64,iVBO"}}]}]}""")]
    [InlineData(false, """{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"\u0064ata:image/png;base64,iVBO"}}]}]}""")]
    [InlineData(false, """{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBE"}}]}]}""")]
    // Client-run tools, whose schemas may name anything.
    [InlineData(true, """{"model":"gpt-5","input":"x","tools":[{"type":"function","name":"open","parameters":{"type":"object","properties":{"file_id":{"type":"string"},"image_url":{"type":"string"}}}}]}""")]
    [InlineData(true, """{"model":"gpt-5","tools":[{"type":"custom","name":"apply"},{"type":"local_shell"},{"type":"apply_patch"},{"type":"computer_use_preview","display_width":1,"display_height":1,"environment":"browser"}]}""")]
    [InlineData(true, """{"model":"gpt-5","tools":[{"type":"shell"},{"type":"shell","environment":{"type":"local"}},{"type":"tool_search","execution":"client"}]}""")]
    [InlineData(false, """{"model":"gpt-4o","messages":[],"tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{"file_id":{}}}}}]}""")]
    // Members that only look like references: metadata, a tool call's arguments, a completion's text prompt.
    [InlineData(true, """{"model":"gpt-5","input":"x","metadata":{"file_id":"file-1","previous_response_id":"resp_1"}}""")]
    [InlineData(true, """{"model":"gpt-5","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"{\"file_id\":\"file-1\"}"}]}""")]
    [InlineData(false, """{"model":"gpt-image-1","prompt":"a cat by https://x/a.png","n":1}""")]
    [InlineData(true, """{"model":"gpt-5","previous_response_id":null,"conversation":null,"prompt":null,"input":"hi"}""")]
    [InlineData(false, """{"model":"gpt-4o","previous_response_id":"resp_1","messages":[]}""")]
    public void BoundedInput_FindsNothing(bool responses, string body)
    {
        foreach (var found in ScanAlike(responses, body))
        {
            Assert.Null(found);
        }
    }

    [Fact]
    public void ReferenceAfterMegabytesOfInlineImage_IsStillFound()
    {
        var body = "{\"model\":\"gpt-5\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\",\"image_url\":\"data:image/png;base64,"
            + new string('A', 2 << 20) + "\"},{\"type\":\"input_file\",\"file_id\":\"file-1\"}]}]}";

        Assert.Equal("stored_input", Scan(true, Encoding.UTF8.GetBytes(body), 16 * 1024)?.Class);
    }

    private static IEnumerable<(string Class, string What)?> ScanAlike(bool responses, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        yield return Scan(responses, bytes, bytes.Length);
        yield return Scan(responses, bytes, 7);
    }

    // As ModelReader.ScanAsync feeds it: unconsumed bytes are kept for the next read.
    private static (string Class, string What)? Scan(bool responses, byte[] body, int chunk)
    {
        var scan = new UnboundedInputScan(responses);
        using var stream = new MemoryStream(body);
        ModelReader.ScanAsync(new ChunkedStream(stream, chunk), scan, default).GetAwaiter().GetResult();
        return scan.Found;
    }

    private sealed class ChunkedStream(Stream inner, int chunk) : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => inner.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}

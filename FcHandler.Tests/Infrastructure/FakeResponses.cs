using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace FcHandler.Tests.Infrastructure;

/// <summary>Canned OpenAI API answers, shaped as the official API documents them, and SSE helpers.</summary>
public static class FakeResponses
{
    public const string Model = "gpt-4o-mini";

    public static Task DefaultAsync(HttpContext context, RecordedRequest request) => request.Path switch
    {
        "/v1/chat/completions" when request.BodyText.Contains("\"stream\":true", StringComparison.Ordinal)
            => StreamChatAsync(context, ["Hel", "lo", "!"]),
        "/v1/chat/completions" => JsonAsync(context, ChatCompletion("Hello!")),
        "/v1/embeddings" => JsonAsync(context, Embeddings),
        "/v1/files" => FileCreatedAsync(context, request),
        "/v1/models" => JsonAsync(context, """{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1,"owned_by":"openai"}]}"""),
        _ => JsonAsync(context, """{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}""", 404),
    };

    public static string ChatCompletion(string content) =>
        $$$"""{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"{{{Model}}}","choices":[{"index":0,"message":{"role":"assistant","content":"{{{content}}}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";

    public static string ChatChunk(string content) =>
        $$$"""{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"{{{Model}}}","choices":[{"index":0,"delta":{"role":"assistant","content":"{{{content}}}"},"finish_reason":null}]}""";

    public const string Embeddings =
        """{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.25,-0.5,0.75]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2}}""";

    public static async Task JsonAsync(HttpContext context, string json, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json, context.RequestAborted);
    }

    public static async Task StartSseAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.StartAsync(context.RequestAborted);
    }

    public static async Task WriteEventAsync(HttpContext context, string data)
    {
        await context.Response.WriteAsync($"data: {data}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    /// <summary>Starts a chat stream, sends its first chunk ("first"), then holds the stream open until <paramref name="release"/>.</summary>
    public static async Task FirstChunkThenWaitAsync(HttpContext context, Task release)
    {
        await StartSseAsync(context);
        await WriteEventAsync(context, ChatChunk("first"));
        await release.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public static async Task StreamChatAsync(HttpContext context, IEnumerable<string> pieces)
    {
        await StartSseAsync(context);
        foreach (var piece in pieces)
        {
            await WriteEventAsync(context, ChatChunk(piece));
        }

        await WriteEventAsync(context, "[DONE]");
    }

    /// <summary>Answers a file upload with the SHA-256 of the file part it received as the file's id.</summary>
    private static async Task FileCreatedAsync(HttpContext context, RecordedRequest request)
    {
        var (fileName, content) = await ReadMultipartFileAsync(request);
        var id = "file-" + Convert.ToHexStringLower(SHA256.HashData(content));
        await JsonAsync(context, string.Create(CultureInfo.InvariantCulture,
            $$"""{"id":"{{id}}","object":"file","bytes":{{content.Length}},"created_at":1700000000,"filename":"{{fileName}}","purpose":"assistants","status":"processed"}"""));
    }

    public static async Task<(string FileName, byte[] Content)> ReadMultipartFileAsync(RecordedRequest request)
    {
        var boundary = HeaderUtilities.RemoveQuotes(
            MediaTypeHeaderValue.Parse(request.Headers["Content-Type"]).Boundary).Value!;
        var reader = new MultipartReader(boundary, new MemoryStream(request.Body)) { BodyLengthLimit = null };
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            var disposition = ContentDispositionHeaderValue.Parse(section.ContentDisposition);
            if (disposition.FileName.HasValue || disposition.FileNameStar.HasValue)
            {
                using var content = new MemoryStream();
                await section.Body.CopyToAsync(content);
                return (HeaderUtilities.RemoveQuotes(disposition.FileName).Value ?? "", content.ToArray());
            }
        }

        throw new InvalidOperationException("The multipart body had no file part.");
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}

using System.IO.Compression;
using System.Text;
using BenchmarkDotNet.Attributes;
using FcHandler.Usage;

namespace FcHandler.Benchmarks;

/// <summary>
/// The per-response cost of usage accounting for a JSON answer: its usage read as it passes, plain or decoded on the
/// side from gzip or brotli (as OpenAI sends answers to the SDKs).
/// </summary>
[MemoryDiagnoser]
public class UsageBenchmarks
{
    private byte[] _body = [];
    private string? _encoding;

    /// <summary>A chat completion (~1 KB) and an embeddings answer for 16 inputs of 1536 floats (~500 KB).</summary>
    [Params("chat", "embeddings")]
    public string Answer { get; set; } = "";

    [Params("identity", "gzip", "br")]
    public string Encoding { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var json = Answer == "chat" ? Chat() : Embeddings();
        _encoding = Encoding == "identity" ? null : Encoding;
        _body = _encoding is null ? json : Compress(json, Encoding);

        // Measure the path that works, not one that gave up early.
        if (ReadUsage() is null)
        {
            throw new InvalidOperationException("the benchmark's answer is not read");
        }
    }

    /// <summary>One whole answer, arriving in 16 KB pieces, from the response's headers to its end.</summary>
    [Benchmark]
    public long? ReadUsage()
    {
        var observer = ResponseObserver.For(true, 200, "application/json", _encoding, false)!;
        for (var offset = 0; offset < _body.Length; offset += 16 * 1024)
        {
            observer.Observe(_body.AsMemory(offset, Math.Min(16 * 1024, _body.Length - offset)));
        }

        return observer.Complete().Usage?.TotalTokens;
    }

    private static byte[] Chat() => System.Text.Encoding.UTF8.GetBytes(
        """{"id":"chatcmpl-1","object":"chat.completion","created":1764152012,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"""
        + "\"" + new string('x', 600) + "\"" +
        ""","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":2006,"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_560af6e559"}""");

    private static byte[] Embeddings()
    {
        var random = new Random(7);
        var text = new StringBuilder("{\n  \"object\": \"list\",\n  \"data\": [\n");
        for (var i = 0; i < 16; i++)
        {
            text.Append("    {\n      \"object\": \"embedding\",\n      \"index\": ").Append(i).Append(",\n      \"embedding\": [\n");
            for (var j = 0; j < 1536; j++)
            {
                text.Append("        ").Append((random.NextDouble() - 0.5).ToString("0.000000000", System.Globalization.CultureInfo.InvariantCulture)).Append(j < 1535 ? ",\n" : "\n");
            }

            text.Append(i < 15 ? "      ]\n    },\n" : "      ]\n    }\n");
        }

        text.Append("  ],\n  \"model\": \"text-embedding-3-small\",\n  \"usage\": {\n    \"prompt_tokens\": 96,\n    \"total_tokens\": 96\n  }\n}\n");
        return System.Text.Encoding.UTF8.GetBytes(text.ToString());
    }

    private static byte[] Compress(byte[] body, string encoding)
    {
        using var output = new MemoryStream();
        using (Stream encoder = encoding == "gzip"
            ? new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)
            : new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            encoder.Write(body);
        }

        return output.ToArray();
    }
}

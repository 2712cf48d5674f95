using BenchmarkDotNet.Attributes;
using FcHandler.Access;
using Microsoft.AspNetCore.Http;

namespace FcHandler.Benchmarks;

/// <summary>
/// Reading the model a request asks for, which every generation request now pays once for the access line: the read
/// stops at the top-level "model", so the cost grows with what comes before it (the Python SDK writes it after the
/// messages).
/// </summary>
[MemoryDiagnoser]
public class ModelReaderBenchmarks
{
    private HttpRequest _request = null!;

    /// <summary>The bytes of messages before "model": a short chat, and a long conversation.</summary>
    [Params(2 * 1024, 64 * 1024)]
    public int MessagesBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var half = new string('x', MessagesBytes / 2);
        var body = System.Text.Encoding.UTF8.GetBytes(
            $$"""{"messages":[{"role":"system","content":"{{half}}"},{"role":"user","content":"{{half}}"}],"model":"gpt-4o-mini","stream":true}""");
        _request = new DefaultHttpContext().Request;
        _request.ContentType = "application/json";
        _request.ContentLength = body.Length;
        _request.Body = new MemoryStream(body);
        if (ReadModel().GetAwaiter().GetResult() != "gpt-4o-mini")
        {
            throw new InvalidOperationException("the benchmark's model is not read");
        }
    }

    [Benchmark]
    public async Task<string?> ReadModel() => (await ModelReader.ReadAsync(_request, CancellationToken.None)).Model;
}

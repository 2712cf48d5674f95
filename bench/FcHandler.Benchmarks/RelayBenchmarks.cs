using System.IO.Pipelines;
using System.Net.Http.Headers;
using System.Text;
using BenchmarkDotNet.Attributes;
using FcHandler.Logging;
using FcHandler.Proxy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FcHandler.Benchmarks;

/// <summary>
/// What relaying one SSE event costs, with and without the usage observer: the write through the access log's
/// counting feature to a sink. The observer's expected cost for an ordinary event is one vectorised search for
/// "usage"; it must allocate nothing per event.
/// </summary>
[MemoryDiagnoser]
public class RelayBenchmarks
{
    private const string Chunk =
        """data: {"id":"chatcmpl-BQ80c1","object":"chat.completion.chunk","created":1764152150,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_560af6e559","choices":[{"index":0,"delta":{"content":" a classic."},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"qqqqq"}""" + "\n\n";

    private const string ChunkWithoutUsageField =
        """data: {"id":"chatcmpl-BQ80c1","object":"chat.completion.chunk","created":1764152150,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_560af6e559","choices":[{"index":0,"delta":{"content":" a classic."},"logprobs":null,"finish_reason":null}],"obfuscation":"qqqqq"}""" + "\n\n";

    private const string ResponsesDelta =
        "event: response.output_text.delta\n" +
        """data: {"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_68c1f0a9","output_index":0,"content_index":0,"delta":" How can I help?","logprobs":[],"obfuscation":"x2"}""" + "\n\n";

    private CountingResponseBodyFeature _plain = null!;
    private CountingResponseBodyFeature _observed = null!;
    private ReadOnlyMemory<byte> _event;

    public static IEnumerable<string> Events => ["chat chunk, usage:null", "chat chunk, no usage field", "responses delta"];

    [ParamsSource(nameof(Events))]
    public string Event { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _event = Encoding.UTF8.GetBytes(Event switch
        {
            "chat chunk, usage:null" => Chunk,
            "chat chunk, no usage field" => ChunkWithoutUsageField,
            _ => ResponsesDelta,
        });

        _plain = new CountingResponseBodyFeature(new NullBodyFeature());

        var exchange = new ProxyExchange { Route = RouteClass.Generation };
        var request = new DefaultHttpContext().Request;
        request.Method = "POST";
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ByteArrayContent([]) };
        response.Content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
        exchange.MarkUpstreamHeaders(request, response);
        _observed = new CountingResponseBodyFeature(new NullBodyFeature(), exchange);
        if (exchange.Observer is null)
        {
            throw new InvalidOperationException("no observer: the benchmark would measure nothing");
        }
    }

    [Benchmark(Baseline = true)]
    public ValueTask WithoutObserver() => _plain.WriteAsync(_event);

    [Benchmark]
    public ValueTask WithObserver() => _observed.WriteAsync(_event);

    private sealed class NullBodyFeature : IHttpResponseBodyFeature
    {
        public Stream Stream => Stream.Null;

        public PipeWriter Writer => throw new NotSupportedException();

        public void DisableBuffering()
        {
        }

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task CompleteAsync() => Task.CompletedTask;
    }
}

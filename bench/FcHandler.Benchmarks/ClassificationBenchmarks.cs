using BenchmarkDotNet.Attributes;
using FcHandler.Proxy;

namespace FcHandler.Benchmarks;

/// <summary>
/// What every request pays before it is forwarded: the raw-target check and the route lookup. Both must allocate
/// nothing (the Allocated column reads "-").
/// </summary>
[MemoryDiagnoser]
public class ClassificationBenchmarks
{
    public static IEnumerable<string> Targets =>
    [
        "/v1/chat/completions",
        "/v1/files/file-abc123/content?limit=10&after=file-xyz",
        "/v1/engines/davinci/completions",
        "/v1/files/a%20b%20c",
    ];

    public static IEnumerable<string> Paths =>
    [
        "/v1/chat/completions",
        "/v1/responses/resp_123/input_items",
        "/v1/engines/davinci/chat/completions",
        "/v1/files/file-abc123/content",
        "/healthz",
        "/admin",
    ];

    [Benchmark]
    [ArgumentsSource(nameof(Targets))]
    public int RequestTargetCheck(string target) => (int)RequestTarget.Check(target);

    [Benchmark]
    [ArgumentsSource(nameof(Paths))]
    public int RouteTableClassify(string path) => (int)RouteTable.Classify(path);
}

using BenchmarkDotNet.Attributes;
using FcHandler.Proxy;

namespace FcHandler.Benchmarks;

/// <summary>
/// The header rules over the headers a typical SDK request and OpenAI response carry: one decision per header,
/// no allocation.
/// </summary>
[MemoryDiagnoser]
public class HeaderRulesBenchmarks
{
    // What the Python SDK sends through FC's gateway, which adds its own x-fc-* and forwarding headers.
    private static readonly string[] RequestHeaders =
    [
        "Host", "Authorization", "Content-Type", "Content-Length", "Accept", "Accept-Encoding", "User-Agent",
        "x-stainless-lang", "x-stainless-package-version", "x-stainless-os", "x-stainless-arch", "x-stainless-runtime",
        "x-stainless-runtime-version", "x-stainless-retry-count", "OpenAI-Organization", "X-Forwarded-For",
        "X-Forwarded-Proto", "x-fc-request-id", "x-fc-access-key-id", "x-fc-access-key-secret", "x-fc-security-token",
        "Origin", "Cookie",
    ];

    private static readonly (string Name, string Value)[] ResponseHeaders =
    [
        ("Date", "Thu, 26 Nov 2026 08:31:38 GMT"), ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"),
        ("Connection", "keep-alive"), ("access-control-expose-headers", "X-Request-ID"), ("openai-organization", "org-x"),
        ("openai-processing-ms", "412"), ("openai-version", "2020-10-01"), ("x-ratelimit-limit-requests", "10000"),
        ("x-ratelimit-remaining-requests", "9999"), ("x-ratelimit-reset-requests", "6ms"), ("x-request-id", "req_abc"),
        ("Set-Cookie", "__cf_bm=abc; path=/"), ("Server", "cloudflare"), ("Content-Disposition", "attachment; filename=a.jsonl"),
    ];

    [Benchmark]
    public int ForRequest()
    {
        var forwarded = 0;
        foreach (var name in RequestHeaders)
        {
            forwarded += HeaderRules.ForRequest(name) == HeaderAction.Forward ? 1 : 0;
        }

        return forwarded;
    }

    [Benchmark]
    public int ForResponse()
    {
        var forwarded = 0;
        foreach (var (name, value) in ResponseHeaders)
        {
            forwarded += HeaderRules.ForResponse(name, value) == HeaderAction.Forward ? 1 : 0;
        }

        return forwarded;
    }
}

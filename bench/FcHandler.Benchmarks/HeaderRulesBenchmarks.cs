using BenchmarkDotNet.Attributes;
using FcHandler.Proxy;

namespace FcHandler.Benchmarks;

/// <summary>
/// The header rules over the headers a typical SDK request, a Codex request (also with an operator's additions) and
/// an OpenAI response carry: one decision per header, no allocation.
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

    // What the Codex CLI sends on a Responses request through FC's gateway.
    private static readonly string[] CodexRequestHeaders =
    [
        "Host", "Authorization", "Content-Type", "Content-Length", "Accept", "User-Agent", "originator", "version",
        "x-client-request-id", "session_id", "x-codex-beta-features", "x-codex-turn-state", "x-codex-window-id",
        "x-codex-turn-metadata", "X-Forwarded-For", "X-Forwarded-Proto", "x-fc-request-id", "x-fc-access-key-id",
        "x-fc-access-key-secret", "x-fc-security-token",
    ];

    // What the proxy's transformer applies: the built-in rule, or the rule merged with an operator's
    // PROXY_FORWARD_HEADERS, both built as start-up builds them.
    private static readonly RequestAllowList BuiltIn = HeaderRules.RequestAllowListWith([]);
    private static readonly RequestAllowList WithAdditions = HeaderRules.RequestAllowListWith(["x-my-trace-id", "x-codex-*"]);

    private static readonly (string Name, string Value)[] ResponseHeaders =
    [
        ("Date", "Thu, 26 Nov 2026 08:31:38 GMT"), ("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"),
        ("Connection", "keep-alive"), ("access-control-expose-headers", "X-Request-ID"), ("openai-organization", "org-x"),
        ("openai-processing-ms", "412"), ("openai-version", "2020-10-01"), ("x-ratelimit-limit-requests", "10000"),
        ("x-ratelimit-remaining-requests", "9999"), ("x-ratelimit-reset-requests", "6ms"), ("x-request-id", "req_abc"),
        ("Set-Cookie", "__cf_bm=abc; path=/"), ("Server", "cloudflare"), ("Content-Disposition", "attachment; filename=a.jsonl"),
    ];

    [Benchmark]
    public int ForRequest() => Forwarded(BuiltIn, RequestHeaders);

    [Benchmark]
    public int ForCodexRequest() => Forwarded(BuiltIn, CodexRequestHeaders);

    [Benchmark]
    public int ForCodexRequestWithOperatorAdditions() => Forwarded(WithAdditions, CodexRequestHeaders);

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

    private static int Forwarded(RequestAllowList rule, string[] names)
    {
        var forwarded = 0;
        foreach (var name in names)
        {
            forwarded += rule.Allows(name) ? 1 : 0;
        }

        return forwarded;
    }
}

namespace FcHandler.Tests.Proxy;

/// <summary>
/// One typical request of each of OpenAI's own clients, headers as the client sends them (sources and decisions:
/// docs/first-party-headers.md). <see cref="Forwarded"/> must reach the upstream unchanged; <see cref="Dropped"/>
/// are sent by the client but left out by the proxy on purpose.
/// </summary>
public sealed record FirstPartyRequest(
    string Client,
    string Path,
    string Body,
    (string Name, string Value)[] Forwarded,
    (string Name, string Value)[] Dropped)
{
    public override string ToString() => Client;
}

public static class FirstPartyRequests
{
    private const string Chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}],"stream":true}""";
    private const string Responses = """{"model":"gpt-5-codex","instructions":"...","input":[],"stream":true,"prompt_cache_key":"0199a213-81c0-7800-8aa1-bbab2a035a53"}""";
    private const string ThreadId = "0199a213-81c0-7800-8aa1-bbab2a035a53";

    public static readonly FirstPartyRequest PythonSdk = new("openai-python 3.3.1", "/v1/chat/completions", Chat,
    [
        ("Authorization", "Bearer sk-proj-python-client-key"),
        ("Accept", "application/json"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Content-Type", "application/json"),
        ("User-Agent", "OpenAI/Python 3.3.1"),
        ("X-Stainless-Lang", "python"),
        ("X-Stainless-Package-Version", "3.3.1"),
        ("X-Stainless-OS", "MacOS"),
        ("X-Stainless-Arch", "arm64"),
        ("X-Stainless-Runtime", "CPython"),
        ("X-Stainless-Runtime-Version", "3.12.7"),
        ("X-Stainless-Async", "false"),
        ("x-stainless-retry-count", "0"),
        ("x-stainless-read-timeout", "600"),
        ("OpenAI-Organization", "org-2bYz7Qm4Lk9Xw1Vt"),
        ("OpenAI-Project", "proj_Ha7sK2mQ9xLp"),
    ],
    []);

    public static readonly FirstPartyRequest NodeSdk = new("openai-node 7.5.0", "/v1/responses",
        """{"model":"gpt-4.1","input":"Say hello","stream":true}""",
    [
        ("Authorization", "Bearer sk-proj-node-client-key"),
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
        ("User-Agent", "OpenAI/JS 7.5.0"),
        ("X-Stainless-Retry-Count", "0"),
        ("X-Stainless-Timeout", "600"),
        ("X-Stainless-Lang", "js"),
        ("X-Stainless-Package-Version", "7.5.0"),
        ("X-Stainless-OS", "Linux"),
        ("X-Stainless-Arch", "x64"),
        ("X-Stainless-Runtime", "node"),
        ("X-Stainless-Runtime-Version", "v22.11.0"),
        ("X-Stainless-Helper-Method", "stream"),
        ("OpenAI-Project", "proj_Ha7sK2mQ9xLp"),
    ],
    []);

    public static readonly FirstPartyRequest DotNetSdk = new("openai-dotnet 2.15.0", "/v1/chat/completions", Chat,
    [
        ("Authorization", "Bearer sk-proj-dotnet-client-key"),
        ("Accept", "application/json"),
        ("Content-Type", "application/json"),
        ("User-Agent", "OpenAI/2.15.0 (.NET 10.0.12; Ubuntu 24.04.1 LTS)"),
        ("X-Stainless-Lang", "csharp"),
        ("X-Stainless-Package-Version", "2.15.0"),
        ("X-Stainless-Runtime", "dotnet"),
        ("X-Stainless-Runtime-Version", "10.0.12"),
        ("X-Stainless-OS", "Linux"),
        ("X-Stainless-Arch", "x64"),
        ("OpenAI-Organization", "org-2bYz7Qm4Lk9Xw1Vt"),
    ],
    []);

    public static readonly FirstPartyRequest AgentsPython = new("openai-agents-python 0.22.0", "/v1/responses", Responses,
    [
        ("Authorization", "Bearer sk-proj-agents-client-key"),
        ("Accept", "application/json"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Content-Type", "application/json"),
        ("User-Agent", "Agents/Python 0.22.0"),
        ("X-Stainless-Lang", "python"),
        ("X-Stainless-Package-Version", "3.3.1"),
        ("X-Stainless-OS", "Linux"),
        ("X-Stainless-Arch", "x64"),
        ("X-Stainless-Runtime", "CPython"),
        ("X-Stainless-Runtime-Version", "3.13.1"),
        ("X-Stainless-Async", "async:asyncio"),
        ("x-stainless-retry-count", "0"),
        ("x-stainless-read-timeout", "600"),
    ],
    []);

    public static readonly FirstPartyRequest AgentsJsRealtime = new("openai-agents-js realtime 0.17.0", "/v1/realtime/calls",
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
    [
        ("Authorization", "Bearer ek_68af8a2c1f0c8190a1b2c3d4e5f6"),
        ("Content-Type", "application/sdp"),
        ("X-OpenAI-Agents-SDK", "openai-agents-sdk.0.17.0"),
    ],
    []);

    public static readonly FirstPartyRequest Codex = new("codex-rs (2026), a turn's second request", "/v1/responses", Responses,
    [
        ("Authorization", "Bearer sk-proj-codex-client-key"),
        ("Accept", "text/event-stream"),
        ("Content-Type", "application/json"),
        ("originator", "codex_cli_rs"),
        ("User-Agent", "codex_cli_rs/0.121.0 (Mac OS 15.4.1; arm64) iTerm.app/3.5.13"),
        ("version", "0.121.0"),
        ("x-client-request-id", ThreadId),
        ("session_id", ThreadId),
        ("x-codex-beta-features", "unified_exec,remote_compaction_v2"),
        ("x-codex-turn-state", "gAAAAABo9K2xQm8v3sticky-routing-token=="),
        ("x-codex-window-id", ThreadId + ":0"),
    ],
    [
        ("x-codex-turn-metadata", """{"session_id":"0199a213-81c0-7800-8aa1-bbab2a035a53","turn_id":"0199a214-0c3e-7a41-9d52-1e7c5f0b9a77","workspaces":{"/Users/alice/src/shop":{"associated_remote_urls":{"origin":"git@gitee.com:alice/shop.git"},"latest_git_commit_hash":"9fceb02d0ae598e95dc970b74767f19372d61af8","has_changes":true}},"sandbox":"seatbelt"}"""),
        ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
    ]);

    public static readonly FirstPartyRequest CodexSubAgent = new("codex-rs (later), a review sub-agent compacting", "/v1/responses/compact",
        """{"model":"gpt-5-codex","input":[],"instructions":"..."}""",
    [
        ("Authorization", "Bearer sk-proj-codex-client-key"),
        ("Content-Type", "application/json"),
        ("originator", "codex_exec"),
        ("User-Agent", "codex_exec/0.130.0 (Ubuntu 24.4.0; x86_64) xterm-256color"),
        ("version", "0.130.0"),
        ("session-id", ThreadId),
        ("thread-id", "0199a215-4d2a-7c10-8e3b-5f6a7b8c9d0e"),
        ("x-client-request-id", "0199a215-4d2a-7c10-8e3b-5f6a7b8c9d0e"),
        ("x-codex-installation-id", "5f0c3e8a-1b2d-4c6e-8f9a-0b1c2d3e4f5a"),
        ("x-codex-window-id", "0199a215-4d2a-7c10-8e3b-5f6a7b8c9d0e:1"),
        ("x-codex-parent-thread-id", ThreadId),
        ("x-openai-subagent", "review"),
        ("x-openai-internal-codex-residency", "us"),
    ],
    []);

    public static readonly FirstPartyRequest Codex2025 = new("codex-rs (2025)", "/v1/responses", Responses,
    [
        ("Authorization", "Bearer sk-proj-codex-client-key"),
        ("Accept", "text/event-stream"),
        ("Content-Type", "application/json"),
        ("originator", "codex_cli_rs"),
        ("User-Agent", "codex_cli_rs/0.46.0 (Ubuntu 24.4.0; x86_64) WindowsTerminal"),
        ("version", "0.46.0"),
        ("OpenAI-Beta", "responses=experimental"),
        ("conversation_id", ThreadId),
        ("session_id", ThreadId),
    ],
    []);

    public static readonly FirstPartyRequest LegacyPythonSdk = new("openai-python 0.28.1", "/v1/chat/completions", Chat,
    [
        ("Authorization", "Bearer sk-legacy-client-key"),
        ("Accept", "*/*"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Content-Type", "application/json"),
        ("User-Agent", "OpenAI/v1 PythonBindings/0.28.1"),
        ("X-OpenAI-Client-User-Agent", """{"bindings_version": "0.28.1", "httplib": "requests", "lang": "python", "lang_version": "3.10.12", "platform": "Linux-5.15.0-91-generic-x86_64-with-glibc2.35", "publisher": "openai", "uname": "Linux 5.15.0-91-generic #101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023 x86_64 x86_64"}"""),
        ("OpenAI-Organization", "org-2bYz7Qm4Lk9Xw1Vt"),
    ],
    [
        ("X-Request-Id", "legacy-request-7"),
    ]);

    /// <summary>What FC, a CDN in front of it and a browser add on the way: none of it may reach the upstream.</summary>
    public static readonly (string Name, string Value)[] AddedOnTheWay =
    [
        ("X-Forwarded-For", "203.0.113.7, 198.51.100.2"),
        ("X-Forwarded-Proto", "https"),
        ("X-Real-IP", "203.0.113.7"),
        ("Forwarded", "for=203.0.113.7;proto=https"),
        ("CF-Connecting-IP", "203.0.113.7"),
        ("CF-IPCountry", "CN"),
        ("Via", "1.1 cdn.example"),
        ("x-fc-request-id", "1-6700aa00-1a2b3c4d5e6f7a8b9c0d1e2f"),
        ("x-fc-access-key-id", "STS.fc-temporary-key-id"),
        ("x-fc-access-key-secret", "fc-temporary-key-secret"),
        ("x-fc-security-token", "fc-temporary-security-token"),
        ("Accept-Language", "zh-CN,zh;q=0.9"),
        ("Cookie", "session=browser-cookie"),
        ("Connection", "keep-alive"),
    ];

    private static readonly FirstPartyRequest[] Every =
    [
        PythonSdk, NodeSdk, DotNetSdk, AgentsPython, AgentsJsRealtime, Codex, CodexSubAgent, Codex2025, LegacyPythonSdk,
    ];

    /// <summary>The clients by name, so each is a test case of its own.</summary>
    public static TheoryData<string> Clients => [.. Every.Select(request => request.Client)];

    public static FirstPartyRequest Named(string client) => Every.Single(request => request.Client == client);
}

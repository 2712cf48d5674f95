using System.Net;
using System.Net.Sockets;
using System.Text;
using FcHandler.Tests.Infrastructure;
using static FcHandler.Tests.Access.AccessKit;

namespace FcHandler.Tests.Security;

/// <summary>
/// Drives every kind of answer (success, each error, each fault) with recognisable secrets configured and FC's
/// credentials present, then searches everything the outside world got: every log line (what the console logger
/// writes to stdout/stderr), every response (status line, headers, body) and every request the upstream received.
/// </summary>
public sealed class SecretHygieneTests
{
    private const string FcKeyId = "LTAI-FCKEYID-hygiene-0123";
    private const string FcKeySecret = "FCSECRET-hygiene-0123456789";
    private const string FcSecurityToken = "FCSTSTOKEN-hygiene-0123456789";

    private static readonly string FcHeaders =
        $"x-fc-access-key-id: {FcKeyId}\r\nx-fc-access-key-secret: {FcKeySecret}\r\nx-fc-security-token: {FcSecurityToken}\r\n";

    private static Dictionary<string, string?> Settings(params (string Key, string Value)[] extra) => ServerKeyMode(
    [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", FcKeyId),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", FcKeySecret),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", FcSecurityToken),
        ("FC_FUNCTION_NAME", "hygiene"),
        ("MAX_REQUEST_BODY_MB", "1"),
        ("DEFAULT_TIMEOUT", "2s"),
        ("PROXY_REVOKED_TOKEN_IDS", "revoked-1"),
        .. extra,
    ]);

    private static string Request(string method, string target, string? token, string body = "", string extraHeaders = "")
        => $"{method} {target} HTTP/1.1\r\nHost: x\r\n{FcHeaders}{(token is null ? "" : $"Authorization: Bearer {token}\r\n")}" +
           $"{extraHeaders}Content-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";

    [Fact]
    public async Task EveryPath_NoSecretReachesLogsResponsesOrUpstream()
    {
        var signed = Signed("hygiene", models: ["gpt-4o-mini"]);
        var secrets = new[] { StaticToken, OtherStaticToken, Secret, signed, signed.Split('.')[2], FcKeyId, FcKeySecret, FcSecurityToken };

        await using var upstream = await FakeOpenAI.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.Handler = (context, request) => request.Path switch
        {
            "/v1/fine_tuning/jobs" => release.Task.WaitAsync(context.RequestAborted), // silent: 504
            "/v1/batches" => FakeResponses.JsonAsync(context, """{"error":{"message":"Rate limit","type":"requests","param":null,"code":"rate_limit_exceeded"}}""", 429),
            _ => FakeResponses.DefaultAsync(context, request),
        };
        await using var proxy = await ProxyHost.StartAsync(upstream, Settings());
        await using var unreachable = await ProxyHost.StartAsync($"http://127.0.0.1:{FreePort()}", Settings());

        const string Chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";
        var responses = new List<string>();
        foreach (var raw in new[]
        {
            Request("POST", "/v1/chat/completions", StaticToken, Chat),
            Request("POST", "/v1/chat/completions", signed, """{"model":"gpt-4o-mini","stream":true,"messages":[]}"""),
            Request("GET", "/v1/models", OtherStaticToken),
            Request("GET", "/v1/models", null),
            Request("GET", "/v1/models", ServerKey),
            Request("GET", "/v1/models", StaticToken[..^1] + "x"),
            Request("GET", "/v1/models", Signed(expiresIn: TimeSpan.FromSeconds(-1))),
            Request("GET", "/v1/models", Signed(id: "revoked-1")),
            Request("GET", "/v1/models", Signed(routes: ["generation"])),
            Request("POST", "/v1/chat/completions", signed, """{"model":"gpt-4o"}"""),
            Request("GET", "/v2/nothing", StaticToken),
            Request("GET", "/v1/%2e%2e/admin", StaticToken),
            Request("TRACE", "/v1/models", StaticToken),
            Request("OPTIONS", "/v1/models", null, extraHeaders: "Origin: https://app.example\r\nAccess-Control-Request-Headers: authorization\r\n"),
            Request("GET", "/healthz", null),
            Request("POST", "/v1/batches", StaticToken, "{}"),
            Request("POST", "/v1/fine_tuning/jobs", StaticToken, "{}"),
            $"POST /v1/files HTTP/1.1\r\nHost: x\r\n{FcHeaders}Authorization: Bearer {StaticToken}\r\nContent-Length: 9999999\r\nConnection: close\r\n\r\n",
            $"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n{FcHeaders}Authorization: Bearer {StaticToken}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n",
            Request("GET", "/v1/realtime?model=gpt-realtime", null, extraHeaders: WebSocketWith(StaticToken[..^1] + "x")),
            Request("GET", "/v1/realtime?model=gpt-realtime", null, extraHeaders: WebSocketWith(Signed(routes: ["generation"]))),
            Request("GET", "/v1/realtime?model=gpt-4o", null, extraHeaders: WebSocketWith(signed)),
        })
        {
            responses.Add(await RawHttp.SendAsync(proxy.BaseAddress, raw));
        }

        responses.Add(await RawHttp.SendAsync(unreachable.BaseAddress, Request("GET", "/v1/models", StaticToken)));
        responses.Add(await WebSocketSessionAsync(proxy, Signed("hygiene", models: ["gpt-realtime"])));
        release.TrySetResult();

        // Every kind of answer happened.
        var statuses = responses.Select(RawHttp.StatusOf).ToHashSet();
        Assert.Superset(new HashSet<int> { 200, 204, 400, 401, 403, 404, 405, 413, 429, 502, 504 }, statuses);

        var logs = proxy.Logs.All + "\n" + unreachable.Logs.All;
        var answers = string.Join("\n", responses);
        var forwarded = string.Join("\n", upstream.Requests.Select(r =>
            $"{r.Method} {r.Path}{r.Query}\n{string.Join('\n', r.Headers.Select(h => $"{h.Key}: {h.Value}"))}\n{r.BodyText}"));

        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, answers, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, forwarded, StringComparison.Ordinal);
        }

        // The server key goes upstream as the credential and nowhere else.
        Assert.DoesNotContain(ServerKey, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(ServerKey, answers, StringComparison.Ordinal);
        Assert.All(upstream.Requests, r =>
        {
            Assert.Equal("Bearer " + ServerKey, r.Headers["Authorization"]);
            Assert.DoesNotContain(ServerKey, string.Join('\n', r.Headers.Where(h => h.Key != "Authorization").Select(h => h.Value)) + r.BodyText + r.Query, StringComparison.Ordinal);
        });
    }

    // A browser's WebSocket handshake, its token in the subprotocol list.
    private static string WebSocketWith(string token)
        => $"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
           $"Sec-WebSocket-Protocol: realtime, openai-insecure-api-key.{token}\r\n";

    // A whole Realtime session with a token in the subprotocol list; returns everything the client got.
    private static async Task<string> WebSocketSessionAsync(ProxyHost proxy, string token)
    {
        using var socket = await RealtimeSockets.ConnectAsync(proxy, options =>
        {
            options.AddSubProtocol("realtime");
            options.AddSubProtocol("openai-insecure-api-key." + token);
            foreach (var (name, value) in FcHeaders.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Select(h => h.Split(": ")).Select(h => (h[0], h[1])))
            {
                options.SetRequestHeader(name, value);
            }
        });
        var got = new StringBuilder($"HTTP/1.1 {(int)socket.HttpStatusCode!} {socket.SubProtocol}\r\n");
        foreach (var (name, values) in socket.HttpResponseHeaders!)
        {
            got.Append(name).Append(": ").AppendJoin(", ", values).Append("\r\n");
        }

        got.Append(await socket.ReceiveTextAsync());
        await socket.SendTextAsync("""{"type":"input_audio_buffer.clear"}"""); // a scoped session's messages must be JSON objects
        got.Append(await socket.ReceiveTextAsync());
        await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        return got.ToString();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}

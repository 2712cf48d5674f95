using System.Net.Sockets;
using System.Text;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Access;

/// <summary>
/// How the proxy receives request bodies, over real sockets: bodies that arrive in pieces are forwarded whole, a client
/// that leaves halfway is logged as gone (499) and not blamed for a malformed body, a client that is still there with a
/// malformed body is, and a slow upload holds no temporary file before it has sent enough to need one.
/// </summary>
public sealed class RequestBodyBufferTests : ProxyTest, IDisposable
{
    private const string Path = "/v1/embeddings";

    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("fchandler-bodies-");

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["CLIENT_TIMEOUT"] = "2s",
        ["TEMP_STORAGE_DIR"] = _temp.FullName,
    };

    public void Dispose() => _temp.Delete(recursive: true);

    [Theory]
    [InlineData(20_000, false)] // in memory, in an array that grows to exactly its length
    [InlineData(100_000, false)] // past 64 KB: to the temporary file
    [InlineData(100_000, true)] // chunked, no declared length
    public async Task BodyArrivingInPieces_IsForwardedWholeAndExact(int length, bool chunked)
    {
        var body = Enumerable.Range(0, length).Select(i => (byte)(i % 251)).ToArray();

        var raw = await RawHttp.ExchangeAsync(Proxy.BaseAddress, async (stream, token) =>
        {
            await stream.WriteAsync(Head(chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {length}"), token);
            // Pieces of uneven sizes, 5 ms apart (the pace is the load under test, not a wait), so the proxy receives
            // the body in many reads and its buffer grows and spills between them.
            using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(5));
            for (var (sent, piece) = (0, 1000); sent < length && await pace.WaitForNextTickAsync(token); sent += piece, piece = (piece * 3 / 2) % 17_000 + 500)
            {
                var part = body.AsMemory(sent, Math.Min(piece, length - sent));
                if (chunked)
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"{part.Length:x}\r\n"), token);
                }

                await stream.WriteAsync(part, token);
                if (chunked)
                {
                    await stream.WriteAsync("\r\n"u8.ToArray(), token);
                }
            }

            if (chunked)
            {
                await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), token);
            }
        });

        Assert.Equal(200, RawHttp.StatusOf(raw));
        Assert.Equal(body, Upstream.SingleRequest.Body);
        var line = await AccessLineAsync();
        Assert.Contains($" 200 upstream=200 ", line, StringComparison.Ordinal);
        Assert.Contains($" in={length}B ", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(20_000, false)]
    [InlineData(200_000, false)]
    [InlineData(20_000, true)]
    [InlineData(200_000, true)]
    public async Task ClientLeavingHalfwayThroughItsBody_IsLoggedAs499NotAsAMalformedBody(int length, bool reset)
    {
        using (var client = await ReadingBodyAsync($"Content-Length: {length}"))
        {
            await client.GetStream().WriteAsync(new byte[length / 2]);
            if (reset)
            {
                client.Client.LingerState = new LingerOption(true, 0); // close with a reset, as a killed process's socket
            }
        }

        var line = await AccessLineAsync();
        Assert.Matches($@"POST {Path} generation 499 upstream=- .* error=- request_id=", line);
        Assert.DoesNotContain("invalid_request_body", Proxy.Logs.All, StringComparison.Ordinal);
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task MalformedChunkedBody_ClientStillThere_Gets400AndTheLogSaysSo()
    {
        var raw = await RawHttp.SendAsync(Proxy.BaseAddress, Encoding.ASCII.GetString(Head("Transfer-Encoding: chunked")) + "5\r\nhelloXX0\r\n\r\n");

        Assert.Equal(400, RawHttp.StatusOf(raw));
        Assert.Contains("\"code\":\"invalid_request_body\"", raw, StringComparison.Ordinal);
        Assert.Matches($@"POST {Path} generation 400 upstream=- .* error=invalid_request_body request_id=", await AccessLineAsync());
        Assert.Empty(Upstream.Requests);
    }

    [Fact]
    public async Task BodyShorterThanItsLength_ClientStillThere_Gets408AndTheLogSaysSo()
    {
        // Still connected, with part of its body missing: to the proxy, an upload that stalled.
        var raw = await RawHttp.ExchangeAsync(Proxy.BaseAddress, async (stream, token) =>
        {
            await stream.WriteAsync(Head("Content-Length: 1000"), token);
            await stream.WriteAsync(new byte[500], token);
            await Task.Delay(Timeout.Infinite, token); // the stall: ends when the test's read completes
        });

        Assert.Equal(408, RawHttp.StatusOf(raw));
        Assert.Matches($@"POST {Path} generation 408 upstream=- .* in=500B .* error=request_timeout request_id=", await AccessLineAsync());
    }

    [Fact]
    public async Task LargeDeclaredBodyArrivingSlowly_HoldsNoTemporaryFileBeforeItsFirst64KB()
    {
        using var watcher = new FileSystemWatcher(_temp.FullName) { EnableRaisingEvents = true };
        var created = new List<string>();
        var sentinel = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        watcher.Created += (_, e) =>
        {
            if (e.Name == "sentinel")
            {
                sentinel.TrySetResult();
            }
            else
            {
                lock (created)
                {
                    created.Add(e.Name!);
                }
            }
        };

        // 32 MB declared (reserved from the budget at once), 10 KB sent while the proxy reads, then the client goes.
        using (var client = await ReadingBodyAsync($"Content-Length: {32 * 1024 * 1024}"))
        {
            await client.GetStream().WriteAsync(new byte[10_000]);
        }

        Assert.Contains(" 499 ", await AccessLineAsync(), StringComparison.Ordinal);
        // Events arrive in order: once the sentinel's has, any file the proxy created would have been reported.
        await File.WriteAllTextAsync(System.IO.Path.Combine(_temp.FullName, "sentinel"), "");
        await sentinel.Task.WaitAsync(TimeSpan.FromSeconds(30));
        lock (created)
        {
            Assert.Empty(created);
        }
    }

    private static byte[] Head(string framing, string extra = "") => Encoding.ASCII.GetBytes(
        $"POST {Path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n{framing}\r\n{extra}Connection: close\r\n\r\n");

    /// <summary>
    /// A connection whose request headers the proxy has taken and whose body it has started to read: it asks for
    /// <c>100 Continue</c>, which Kestrel sends when the proxy first reads the body.
    /// </summary>
    private async Task<TcpClient> ReadingBodyAsync(string framing)
    {
        var client = new TcpClient();
        await client.ConnectAsync(Proxy.BaseAddress.Host, Proxy.BaseAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Head(framing, "Expect: 100-continue\r\n"));
        var answer = new byte[25];
        await stream.ReadExactlyAsync(answer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("HTTP/1.1 100 Continue\r\n\r\n", Encoding.ASCII.GetString(answer));
        return client;
    }

    private Task<string> AccessLineAsync() => Proxy.Logs.WaitForLineAsync(l => l.Contains($"[1] POST {Path} ", StringComparison.Ordinal));
}

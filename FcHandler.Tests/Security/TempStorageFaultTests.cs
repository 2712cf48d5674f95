using System.Globalization;
using System.Net;
using System.Text;
using FcHandler.Access;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Security;

/// <summary>
/// The fault battery's temporary-storage rows (the upstream rows are in <see cref="FaultBatteryTests"/>): request
/// bodies over 64 KB are spooled to files that share one budget. Each row asserts what the client got, what the
/// upstream saw, the one line the log said, and that the file and its share of the budget are gone.
/// </summary>
public sealed class TempStorageFaultTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("fchandler-faults-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public async Task TempStorage_DeclaredBodyLargerThanWhatIsLeft_Gets503WithRetryAfterAndForwardsNothing()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, Storage(_temp.FullName, budgetMb: 1));
        var storage = proxy.Services.GetRequiredService<TempStorage>();
        var heldByOthers = storage.BudgetBytes - 100_000; // uploads in flight hold all but 100 KB
        Assert.True(storage.TryReserve(heldByOthers));

        var raw = await RawHttp.ExchangeAsync(proxy.BaseAddress, async (stream, token) =>
        {
            await stream.WriteAsync(Upload(200_000), token);
            await stream.WriteAsync(new byte[200_000], token);
        });

        AssertStorageFull(raw);
        Assert.Empty(upstream.Requests);
        // Refused on its declared length, before a byte of it was read.
        await proxy.Logs.WaitForLineAsync(l => l.Contains("[40] Request body refused with 503: 200000 bytes do not fit", StringComparison.Ordinal));
        AssertOneCleanLine(proxy.Logs);
        Assert.Equal(heldByOthers, storage.ReservedBytes);
        Assert.Empty(_temp.EnumerateFiles());

        storage.Release(heldByOthers); // the other uploads finish: the same request now fits
        using var retry = await proxy.Client.PostAsync(new Uri("/v1/embeddings", UriKind.Relative), new ByteArrayContent(new byte[200_000]));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(200_000, upstream.SingleRequest.Body.Length);
    }

    [Fact]
    public async Task TempStorage_ChunkedBodyOutgrowsWhatIsLeft_Gets503AndItsFileAndShareAreReturned()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, Storage(_temp.FullName, budgetMb: 1));
        var storage = proxy.Services.GetRequiredService<TempStorage>();
        var heldByOthers = storage.BudgetBytes - 300_000;
        Assert.True(storage.TryReserve(heldByOthers));

        var raw = await RawHttp.ExchangeAsync(proxy.BaseAddress, (stream, token) => WriteChunkedAsync(stream, 600_000, token));

        AssertStorageFull(raw);
        Assert.Empty(upstream.Requests);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("[40] Request body refused with 503", StringComparison.Ordinal));
        AssertOneCleanLine(proxy.Logs);
        Assert.Equal(heldByOthers, storage.ReservedBytes); // the 256 KB it had spooled went back with its file
        Assert.Empty(_temp.EnumerateFiles());

        storage.Release(heldByOthers);
        var next = await RawHttp.ExchangeAsync(proxy.BaseAddress, (stream, token) => WriteChunkedAsync(stream, 600_000, token));
        Assert.Equal(200, RawHttp.StatusOf(next));
        Assert.Equal(600_000, upstream.SingleRequest.Body.Length);
    }

    [Fact]
    public async Task TempStorage_DirectoryGoneWhenWriting_Gets503NotA400AndNoStackTrace()
    {
        await using var upstream = await StartUpstreamAsync();
        var directory = _temp.CreateSubdirectory("spool");
        await using var proxy = await ProxyHost.StartAsync(upstream, Storage(directory.FullName, budgetMb: 64));
        directory.Delete();

        var raw = await RawHttp.ExchangeAsync(proxy.BaseAddress, (stream, token) => WriteChunkedAsync(stream, 200_000, token));

        AssertStorageFull(raw);
        Assert.Empty(upstream.Requests);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("[41] Request body refused with 503: writing it to", StringComparison.Ordinal)
            && l.Contains("DirectoryNotFoundException", StringComparison.Ordinal));
        AssertOneCleanLine(proxy.Logs);
        Assert.Equal(0, proxy.Services.GetRequiredService<TempStorage>().ReservedBytes);

        directory.Create();
        var next = await RawHttp.ExchangeAsync(proxy.BaseAddress, (stream, token) => WriteChunkedAsync(stream, 200_000, token));
        Assert.Equal(200, RawHttp.StatusOf(next));
    }

    [RootFact]
    public async Task TempStorage_DiskFullWhileWriting_Gets503AndTheNextRequestThatFitsSucceeds()
    {
        // 1 MB of real disk under a budget that would allow 256 MB: the write itself fails (ENOSPC), as in an FC
        // instance whose /tmp something else has filled.
        using var disk = SmallDisk.Mount(megabytes: 1);
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await ProxyHost.StartAsync(upstream, Storage(disk.Path, budgetMb: 256, maxBodyMb: 32));

        var raw = await RawHttp.ExchangeAsync(proxy.BaseAddress, async (stream, token) =>
        {
            await stream.WriteAsync(Upload(5 * 1024 * 1024), token);
            await stream.WriteAsync(new byte[5 * 1024 * 1024], token);
        });

        AssertStorageFull(raw);
        Assert.Empty(upstream.Requests);
        await proxy.Logs.WaitForLineAsync(l => l.Contains("[41] Request body refused with 503", StringComparison.Ordinal)
            && l.Contains("No space left on device", StringComparison.Ordinal));
        AssertOneCleanLine(proxy.Logs);
        Assert.Empty(Directory.EnumerateFileSystemEntries(disk.Path));
        Assert.Equal(0, proxy.Services.GetRequiredService<TempStorage>().ReservedBytes);

        using var next = await proxy.Client.PostAsync(new Uri("/v1/embeddings", UriKind.Relative), new ByteArrayContent(new byte[300_000]));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(300_000, upstream.SingleRequest.Body.Length);
    }

    private static async Task<FakeOpenAI> StartUpstreamAsync()
    {
        var upstream = await FakeOpenAI.StartAsync();
        upstream.Handler = (context, _) => FakeResponses.JsonAsync(context, "{}");
        return upstream;
    }

    private static Dictionary<string, string?> Storage(string directory, int budgetMb, int maxBodyMb = 1) => new()
    {
        ["TEMP_STORAGE_DIR"] = directory,
        ["TEMP_STORAGE_MB"] = budgetMb.ToString(CultureInfo.InvariantCulture),
        ["MAX_REQUEST_BODY_MB"] = maxBodyMb.ToString(CultureInfo.InvariantCulture),
    };

    private static byte[] Upload(long length) => Encoding.ASCII.GetBytes(
        $"POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n");

    private static async Task WriteChunkedAsync(Stream stream, int length, CancellationToken token)
    {
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"), token);
        for (var sent = 0; sent < length; sent += 0x4000)
        {
            var size = Math.Min(0x4000, length - sent);
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"{size:x}\r\n{new string('x', size)}\r\n"), token);
        }

        await stream.WriteAsync("0\r\n\r\n"u8.ToArray(), token);
    }

    private static void AssertStorageFull(string raw)
    {
        Assert.Equal(503, RawHttp.StatusOf(raw));
        Assert.Contains("\"code\":\"temp_storage_full\"", raw, StringComparison.Ordinal);
        Assert.Contains("\r\nRetry-After: 2\r\n", raw, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The fault was logged as one line: no unhandled exception, no stack trace.</summary>
    private static void AssertOneCleanLine(LogCapture logs)
    {
        Assert.DoesNotContain(logs.Lines, l => l.Contains("[3] Unhandled", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("\n   at ", StringComparison.Ordinal));
    }
}

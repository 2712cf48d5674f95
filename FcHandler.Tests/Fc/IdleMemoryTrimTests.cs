using System.Net;
using FcHandler.Fc;
using FcHandler.Hosting;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Fc;

/// <summary>
/// The idle trim: one compacting collection once the instance has been quiet, only when the heap grew, never while a
/// request runs, never after a freeze. The clock is fake; the heap is a stand-in that counts collections.
/// </summary>
public sealed class IdleMemoryTrimTests : IDisposable
{
    private const long Mb = 1 << 20;
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(5);

    private readonly InFlightRequests _inFlight = new();
    private readonly ObservedTimeProvider _time = new();
    private readonly StandInHeap _heap = new() { Committed = 10 * Mb };
    private readonly LogCapture _logs = new();
    private readonly LoggerFactory _loggerFactory = new();
    private readonly IdleMemoryTrim _trim;

    public IdleMemoryTrimTests()
    {
        _loggerFactory.AddProvider(_logs);
        _trim = new IdleMemoryTrim(_inFlight, new FcOptions { IdleTrimAfter = Quiet }, _heap, _time, _loggerFactory.CreateLogger<IdleMemoryTrim>());
    }

    [Fact]
    public async Task Trim_QuietAfterTheHeapGrew_CompactsOnceAndLogsWhatItGaveBack()
    {
        var (step, waiting) = BusySpellThenTrim();
        await waiting;
        _heap.Committed = 40 * Mb;
        _heap.AfterCompact = 12 * Mb;

        _time.Advance(Quiet);

        Assert.Equal(IdleTrimOutcome.Compacted, await step);
        Assert.Equal(1, _heap.Compactions);
        var line = Assert.Single(_logs.Lines);
        Assert.Contains("Idle for 5s: heap compacted from 40 MB committed to 12 MB", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trim_RequestArrivesDuringTheQuietPeriod_WaitsForItsEndAndStartsAgain()
    {
        var (step, waiting) = BusySpellThenTrim();
        await waiting;
        _heap.Committed = 40 * Mb;
        Assert.True(_inFlight.TryEnter());

        _time.Advance(Quiet);

        Assert.Equal(IdleTrimOutcome.Busy, await step);
        var next = _trim.TrimWhenIdleAsync(CancellationToken.None);
        Assert.False(next.IsCompleted, "the trim's next wait began while a request was running");
        var secondWait = _time.NextTimer();
        _inFlight.Exit();
        await secondWait;
        _time.Advance(Quiet);
        Assert.Equal(IdleTrimOutcome.Compacted, await next);
        Assert.Equal(1, _heap.Compactions);
    }

    [Fact]
    public async Task Trim_HeapGrewLessThanTheThreshold_DoesNotCollect()
    {
        var (step, waiting) = BusySpellThenTrim();
        await waiting;
        _heap.Committed = 10 * Mb + IdleMemoryTrim.GrowthThresholdBytes - 1;

        _time.Advance(Quiet);

        Assert.Equal(IdleTrimOutcome.BelowThreshold, await step);
        Assert.Equal(0, _heap.Compactions);
        Assert.Empty(_logs.Lines);
    }

    [Fact]
    public async Task Trim_TimerFiresLongAfterItWasDue_SkipsTheCollectionAsAfterAFreeze()
    {
        var (step, waiting) = BusySpellThenTrim();
        await waiting;
        _heap.Committed = 40 * Mb;

        _time.Advance(Quiet + TimeSpan.FromSeconds(2));

        Assert.Equal(IdleTrimOutcome.Overslept, await step);
        Assert.Equal(0, _heap.Compactions);
    }

    [Fact]
    public async Task Trim_AfterCompacting_WaitsForTheNextBusySpellAndMeasuresGrowthFromWhatItLeft()
    {
        var (step, waiting) = BusySpellThenTrim();
        await waiting;
        _heap.Committed = 40 * Mb;
        _heap.AfterCompact = 12 * Mb;
        _time.Advance(Quiet);
        Assert.Equal(IdleTrimOutcome.Compacted, await step);

        var idleAgain = _trim.TrimWhenIdleAsync(CancellationToken.None);
        _time.Advance(Quiet * 10);
        Assert.False(idleAgain.IsCompleted, "the trim ran again although no request came");

        // Grown by less than the threshold from the 12 MB the compaction left: nothing to do.
        var wait = _time.NextTimer();
        Assert.True(_inFlight.TryEnter());
        _heap.Committed = 12 * Mb + IdleMemoryTrim.GrowthThresholdBytes - 1;
        _inFlight.Exit();
        await wait;
        _time.Advance(Quiet);
        Assert.Equal(IdleTrimOutcome.BelowThreshold, await idleAgain);
        Assert.Equal(1, _heap.Compactions);
    }

    [Fact]
    public async Task Service_IdleTrimOff_StopsAtOnceAndNeverCollects()
    {
        using var trim = new IdleMemoryTrim(_inFlight, new FcOptions { IdleTrimAfter = null }, _heap, _time, _loggerFactory.CreateLogger<IdleMemoryTrim>());

        await trim.StartAsync(CancellationToken.None);

        await trim.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(_inFlight.TryEnter());
        _inFlight.Exit();
        Assert.Equal(0, _heap.Compactions);
    }

    [Theory]
    [InlineData(null, 5.0)]
    [InlineData("", 5.0)]
    [InlineData("2s", 2.0)]
    [InlineData("500ms", 0.5)]
    [InlineData("off", null)]
    [InlineData("OFF", null)]
    [InlineData("0", null)]
    public void Options_IdleTrimAfter_ReadsDurationsAndOff(string? value, double? seconds)
    {
        var options = FcOptions.Read(Configuration(value));

        Assert.Equal(seconds, options.IdleTrimAfter?.TotalSeconds);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("soon")]
    [InlineData("5x")]
    public void Options_IdleTrimAfterNotADuration_StopsStartUpNamingTheSetting(string value)
    {
        var exception = Assert.Throws<ConfigurationException>(() => FcOptions.Read(Configuration(value)));

        Assert.Contains("IDLE_TRIM_AFTER", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_QuietAfterARequest_CompactsTheHeapAndSaysSo()
    {
        await using var upstream = await FakeOpenAI.StartAsync();
        var heap = new StandInHeap { Committed = 10 * Mb, AfterCompact = 11 * Mb };
        await using var proxy = await ProxyHost.StartAsync(
            upstream.BaseAddress.ToString(),
            new Dictionary<string, string?> { ["IDLE_TRIM_AFTER"] = "100ms" },
            services => services.AddSingleton<IManagedHeap>(heap));
        heap.Committed = 30 * Mb;

        using (var response = await proxy.Client.GetAsync(new Uri("/v1/models", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var line = await proxy.Logs.WaitForLineAsync(l => l.Contains("Idle for 0.1s: heap compacted", StringComparison.Ordinal));
        Assert.Contains("from 30 MB committed to 11 MB", line, StringComparison.Ordinal);
        Assert.Equal(1, heap.Compactions);
    }

    public void Dispose()
    {
        _trim.Dispose();
        _loggerFactory.Dispose();
    }

    private static IConfiguration Configuration(string? idleTrimAfter)
        => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["IDLE_TRIM_AFTER"] = idleTrimAfter }).Build();

    /// <summary>One request comes and goes, then the trim step starts; completes its second task once it waits.</summary>
    private (Task<IdleTrimOutcome> Step, Task Waiting) BusySpellThenTrim()
    {
        Assert.True(_inFlight.TryEnter());
        _inFlight.Exit();
        var waiting = _time.NextTimer();
        return (_trim.TrimWhenIdleAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)), waiting);
    }

    private sealed class StandInHeap : IManagedHeap
    {
        private int _compactions;

        public long Committed { get; set; }

        public long? AfterCompact { get; set; }

        public int Compactions => Volatile.Read(ref _compactions);

        public long CommittedBytes => Committed;

        public void Compact()
        {
            Interlocked.Increment(ref _compactions);
            Committed = AfterCompact ?? Committed;
        }
    }
}

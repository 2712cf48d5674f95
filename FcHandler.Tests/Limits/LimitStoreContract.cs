using FcHandler.Limits;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Limits;

/// <summary>
/// What every limit store must do, run against each: in memory, and Redis (a real server) as a single node and as a
/// cluster. The two implementations of one algorithm (C# and Lua) are held to the same answers here.
/// </summary>
public abstract class LimitStoreContract : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);

    internal ILimitStore Store { get; private set; } = null!;

    /// <summary>Creates the store with its clock at <see cref="Start"/> and budget days starting at <paramref name="utcOffsetSeconds"/>.</summary>
    internal abstract Task<ILimitStore> CreateAsync(DateTimeOffset now, int utcOffsetSeconds);

    /// <summary>Moves the store's clock on.</summary>
    internal abstract void Advance(TimeSpan by);

    protected virtual int UtcOffsetSeconds => 0;

    public virtual async Task InitializeAsync() => Store = await CreateAsync(Start, UtcOffsetSeconds);

    public virtual Task DisposeAsync() => Task.CompletedTask;

    // Each test has subjects of its own, so stores shared between tests never mix their counts.
    private static string NewSubject() => "t-" + Guid.NewGuid().ToString("N")[..12];

    private static LimitRule[] Rules(string text, string? model = null) => LimitSet.Parse(text).For(model);

    private Task<AdmissionResult> AdmitAsync(string subject, LimitRule[] rules, long estimate = 0, bool checksBudget = true, string? lease = null)
        => Store.AdmitAsync(new AdmissionRequest(subject, rules, estimate, checksBudget, lease ?? Guid.NewGuid().ToString("N")), default);

    private static Lease LeaseOf(AdmissionResult result, string subject, LimitRule[] rules, long estimate, string lease, ILimitStore store)
        => new(new AdmissionRequest(subject, rules, estimate, true, lease), result.WindowSecond, result.Periods, store);

    [RedisFact]
    public async Task Admit_RequestsPerMinute_RefusesTheOneOverAndAdmitsAgainOnceTheWindowHasPassed()
    {
        var subject = NewSubject();
        var rules = Rules("rpm=3");

        for (var i = 0; i < 3; i++)
        {
            var admitted = await AdmitAsync(subject, rules);
            Assert.Equal(Verdict.Admitted, admitted.Verdict);
            Assert.Equal(new RateWindow(3, 2 - i, admitted.Requests!.Value.ResetMs), admitted.Requests);
            Assert.InRange(admitted.Requests.Value.ResetMs, 59_000, 61_000);
        }

        var refused = await AdmitAsync(subject, rules);
        Assert.Equal(Verdict.RequestsExceeded, refused.Verdict);
        Assert.InRange(refused.RetryAfterMs, 59_000, 61_000);
        Assert.Equal(0, refused.Requests!.Value.Remaining);

        Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(Verdict.RequestsExceeded, (await AdmitAsync(subject, rules)).Verdict);

        Advance(TimeSpan.FromSeconds(32));
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, rules)).Verdict);
    }

    [RedisFact]
    public async Task Admit_TokensPerMinute_CountsReservationsAndTheirCorrections()
    {
        var subject = NewSubject();
        var rules = Rules("tpm=1000");

        var first = await AdmitAsync(subject, rules, estimate: 600, lease: "a");
        Assert.Equal(Verdict.Admitted, first.Verdict);
        Assert.Equal(400, first.Tokens!.Value.Remaining);

        var over = await AdmitAsync(subject, rules, estimate: 600);
        Assert.Equal(Verdict.TokensExceeded, over.Verdict);
        Assert.InRange(over.RetryAfterMs, 59_000, 61_000);

        // The first used 100 of its 600: the window is corrected where it was counted.
        await Store.SettleAsync(LeaseOf(first, subject, rules, 600, "a", Store), 100, default);
        var second = await AdmitAsync(subject, rules, estimate: 600);
        Assert.Equal(Verdict.Admitted, second.Verdict);
        Assert.Equal(300, second.Tokens!.Value.Remaining);
    }

    [RedisFact]
    public async Task Admit_ReservationLargerThanTokensPerMinute_NeverFits()
    {
        var result = await AdmitAsync(NewSubject(), Rules("tpm=1000"), estimate: 1001);

        Assert.Equal(Verdict.TokensNeverFit, result.Verdict);
    }

    [RedisFact]
    public async Task Admit_Concurrency_HoldsUntilSettledAndALapsedLeaseFreesItsSlot()
    {
        var subject = NewSubject();
        var rules = Rules("concurrency=2");

        var first = await AdmitAsync(subject, rules, lease: "one");
        Assert.Equal(Verdict.Admitted, first.Verdict);
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, rules, lease: "two")).Verdict);
        var third = await AdmitAsync(subject, rules, lease: "three");
        Assert.Equal(Verdict.ConcurrencyExceeded, third.Verdict);
        Assert.True(third.RetryAfterMs > 0);

        await Store.SettleAsync(LeaseOf(first, subject, rules, 0, "one", Store), 0, default);
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, rules, lease: "four")).Verdict);

        // "two" and "four" belong to an instance that died: their leases lapse, unrenewed.
        Advance(LimitStores.LeaseTtl + TimeSpan.FromSeconds(1));
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, rules, lease: "five")).Verdict);
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, rules, lease: "six")).Verdict);
    }

    [RedisFact]
    public async Task Renew_OpenLease_OutlivesTheLeaseTtl()
    {
        var subject = NewSubject();
        var rules = Rules("concurrency=1");
        var admitted = await AdmitAsync(subject, rules, lease: "long");
        var lease = LeaseOf(admitted, subject, rules, 0, "long", Store);

        for (var i = 0; i < 5; i++)
        {
            Advance(LimitStores.RenewEvery);
            await Store.RenewAsync(lease, default);
        }

        Assert.Equal(Verdict.ConcurrencyExceeded, (await AdmitAsync(subject, rules)).Verdict);
    }

    [RedisFact]
    public async Task Admit_ConcurrencyZero_AdmitsNothing()
    {
        Assert.Equal(Verdict.ConcurrencyExceeded, (await AdmitAsync(NewSubject(), Rules("concurrency=0"))).Verdict);
    }

    [RedisFact]
    public async Task Admit_Budget_ReservationsNeverPassItAndSettlementReturnsWhatWasNotUsed()
    {
        var subject = NewSubject();
        var rules = Rules("budget=1000/total");

        var first = await AdmitAsync(subject, rules, estimate: 400, lease: "a");
        var second = await AdmitAsync(subject, rules, estimate: 400, lease: "b");
        Assert.Equal(new BudgetState(1000, 200, null) { InFlight = 800 }, second.Budget);

        var refused = await AdmitAsync(subject, rules, estimate: 400);
        Assert.Equal(Verdict.BudgetHeld, refused.Verdict);
        Assert.Equal(200, refused.Budget!.Value.Left);

        await Store.SettleAsync(LeaseOf(first, subject, rules, 400, "a", Store), 50, default);
        await Store.SettleAsync(LeaseOf(second, subject, rules, 400, "b", Store), null, default); // cut off: kept
        var third = await AdmitAsync(subject, rules, estimate: 500);
        Assert.Equal(Verdict.Admitted, third.Verdict);
        Assert.Equal(50, third.Budget!.Value.Left);

        var report = Assert.Single(await Store.ShowAsync(subject, rules, default));
        Assert.Equal(950, report.BudgetUsed);
        Assert.Null(report.BudgetResetsAt);
    }

    [RedisFact]
    public async Task Admit_BudgetHeldByReservationsInFlight_IsAWaitAndTheFinalRefusalOnlyWhenItIsSpent()
    {
        var subject = NewSubject();
        var rules = Rules("budget=1000/total");
        var first = await AdmitAsync(subject, rules, estimate: 400, lease: "a");
        var second = await AdmitAsync(subject, rules, estimate: 400, lease: "b");

        // Nothing is spent yet: 800 is held by two requests in flight, so a third may fit once they settle.
        var held = await AdmitAsync(subject, rules, estimate: 400);
        Assert.Equal(Verdict.BudgetHeld, held.Verdict);
        Assert.Equal(LimitStores.HeldRetryMs, held.RetryAfterMs);
        Assert.Equal(new BudgetState(1000, 200, null) { InFlight = 800 }, held.Budget);
        Assert.Same(rules[0], held.RefusedBy);

        // Even if both came back whole, 1,100 would not fit: that is final.
        Assert.Equal(Verdict.BudgetExhausted, (await AdmitAsync(subject, rules, estimate: 1100)).Verdict);

        // The first spent 350 of its 400, the second was cut off and keeps all of it: 750 spent, nothing in flight.
        await Store.SettleAsync(LeaseOf(first, subject, rules, 400, "a", Store), 350, default);
        var report = Assert.Single(await Store.ShowAsync(subject, rules, default));
        Assert.Equal((750, 400), (report.BudgetUsed, report.BudgetInFlight));
        await Store.SettleAsync(LeaseOf(second, subject, rules, 400, "b", Store), null, default);
        report = Assert.Single(await Store.ShowAsync(subject, rules, default));
        Assert.Equal((750, 0), (report.BudgetUsed, report.BudgetInFlight));

        var spent = await AdmitAsync(subject, rules, estimate: 400);
        Assert.Equal(Verdict.BudgetExhausted, spent.Verdict);
        Assert.Equal(0, spent.Budget!.Value.InFlight);
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, rules, estimate: 250)).Verdict);
    }

    [RedisFact]
    public async Task Admit_LapsedReservation_StaysSpentButIsNoLongerInFlight()
    {
        var subject = NewSubject();
        var rules = Rules("budget=1000/total");
        var admitted = await AdmitAsync(subject, rules, estimate: 600, lease: "a");
        Assert.Equal(Verdict.BudgetHeld, (await AdmitAsync(subject, rules, estimate: 600)).Verdict);

        // The instance holding "a" died without settling it: once its lease lapses, the room it held is spent for good,
        // and a client is no longer told to wait for it. A late renewal does not bring it back.
        Advance(LimitStores.LeaseTtl + TimeSpan.FromSeconds(1));
        await Store.RenewAsync(LeaseOf(admitted, subject, rules, 600, "a", Store), default);
        var refused = await AdmitAsync(subject, rules, estimate: 600);
        Assert.Equal(Verdict.BudgetExhausted, refused.Verdict);
        Assert.Equal(new BudgetState(1000, 400, null), refused.Budget);
        var report = Assert.Single(await Store.ShowAsync(subject, rules, default));
        Assert.Equal((600, 0), (report.BudgetUsed, report.BudgetInFlight));
    }

    [RedisFact]
    public async Task Renew_Reservation_StaysInFlightPastTheLeaseTtl()
    {
        var subject = NewSubject();
        var rules = Rules("budget=1000/total");
        var admitted = await AdmitAsync(subject, rules, estimate: 600, lease: "long");
        var lease = LeaseOf(admitted, subject, rules, 600, "long", Store);

        for (var i = 0; i < 5; i++)
        {
            Advance(LimitStores.RenewEvery);
            await Store.RenewAsync(lease, default);
        }

        Assert.Equal(Verdict.BudgetHeld, (await AdmitAsync(subject, rules, estimate: 600)).Verdict);
        Assert.Equal(600, Assert.Single(await Store.ShowAsync(subject, rules, default)).BudgetInFlight);
    }

    [RedisFact]
    public async Task Admit_OneRuleHeldAnotherSpent_IsFinalAndNamesTheSpentRule()
    {
        var subject = NewSubject();
        var set = LimitSet.Parse("budget=2000/total,budget[gpt-4o*]=500/total");
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, set.For("o3"), estimate: 1500, lease: "o3")).Verdict);
        await Store.ChargeAsync(subject, set.For("gpt-4o"), 450, default);

        // The subject's budget has room once o3's reservation settles; the model's is spent whatever settles.
        var refused = await AdmitAsync(subject, set.For("gpt-4o"), estimate: 100);

        Assert.Equal(Verdict.BudgetExhausted, refused.Verdict);
        Assert.Equal("gpt-4o*", refused.RefusedBy!.Model);
    }

    [RedisFact]
    public async Task Admit_ReservationOfAnEndedDay_IsNotInFlightInTheNewOne()
    {
        var subject = NewSubject();
        var rules = Rules("budget=1000/day");
        var midnight = new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero).AddSeconds(-UtcOffsetSeconds);
        Advance(midnight - Start - TimeSpan.FromSeconds(30));
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, rules, estimate: 600, lease: "yesterday")).Verdict);

        Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, rules, estimate: 600, lease: "today")).Verdict);
        var held = await AdmitAsync(subject, rules, estimate: 500);

        Assert.Equal(Verdict.BudgetHeld, held.Verdict);
        Assert.Equal(600, held.Budget!.Value.InFlight);
        Assert.Equal(600, Assert.Single(await Store.ShowAsync(subject, rules, default)).BudgetInFlight);
    }

    [RedisFact]
    public async Task Admit_BudgetUsedUp_RefusesEvenARequestThatReservesNothing()
    {
        var subject = NewSubject();
        var rules = Rules("budget=100/total");
        var admitted = await AdmitAsync(subject, rules, estimate: 100, lease: "a");
        await Store.SettleAsync(LeaseOf(admitted, subject, rules, 100, "a", Store), 100, default);

        Assert.Equal(Verdict.BudgetExhausted, (await AdmitAsync(subject, rules, estimate: 0)).Verdict);
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, rules, estimate: 0, checksBudget: false)).Verdict);
    }

    [RedisFact]
    public async Task Settle_ActualAboveTheReservation_ChargesTheDifference()
    {
        var subject = NewSubject();
        var rules = Rules("budget=1000/total,tpm=5000");
        var admitted = await AdmitAsync(subject, rules, estimate: 100, lease: "a");

        await Store.SettleAsync(LeaseOf(admitted, subject, rules, 100, "a", Store), 700, default);

        var report = Assert.Single(await Store.ShowAsync(subject, rules, default));
        Assert.Equal(700, report.BudgetUsed);
        Assert.Equal(700, report.TokensLastMinute);
    }

    [RedisFact]
    public async Task Admit_DailyBudget_StartsAgainAtMidnight()
    {
        var subject = NewSubject();
        var rules = Rules("budget=100/day");
        var admitted = await AdmitAsync(subject, rules, estimate: 100, lease: "a");
        Assert.Equal(Verdict.Admitted, admitted.Verdict);
        await Store.SettleAsync(LeaseOf(admitted, subject, rules, 100, "a", Store), 100, default);

        var refused = await AdmitAsync(subject, rules, estimate: 1);
        Assert.Equal(Verdict.BudgetExhausted, refused.Verdict);
        var midnight = new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero).AddSeconds(-UtcOffsetSeconds);
        Assert.Equal(midnight, refused.Budget!.Value.ResetsAt);
        Assert.InRange(refused.RetryAfterMs, (long)(midnight - Start).TotalMilliseconds - 60_000, (long)(midnight - Start).TotalMilliseconds + 1000);

        Advance(midnight - Start + TimeSpan.FromSeconds(1));
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, rules, estimate: 100)).Verdict);
    }

    [RedisFact]
    public async Task Admit_MonthlyBudget_StartsAgainOnTheFirstOfTheMonth()
    {
        var subject = NewSubject();
        var rules = Rules("budget=100/month");
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, rules, estimate: 100)).Verdict);

        var refused = await AdmitAsync(subject, rules, estimate: 1);
        var nextMonth = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(-UtcOffsetSeconds);
        Assert.Equal(nextMonth, refused.Budget!.Value.ResetsAt);

        Advance(nextMonth - Start - TimeSpan.FromMinutes(1));
        Assert.Equal(Verdict.BudgetExhausted, (await AdmitAsync(subject, rules, estimate: 1)).Verdict);
        Advance(TimeSpan.FromMinutes(2));
        var january = await AdmitAsync(subject, rules, estimate: 1);
        Assert.Equal(Verdict.Admitted, january.Verdict);
        Assert.Equal(nextMonth.AddDays(31), january.Budget!.Value.ResetsAt);
    }

    [RedisFact]
    public async Task Settle_ReservationOfAnEndedPeriod_DoesNotTouchTheNewOne()
    {
        var subject = NewSubject();
        var rules = Rules("budget=1000/day");
        var admitted = await AdmitAsync(subject, rules, estimate: 500, lease: "a");

        Advance(TimeSpan.FromDays(1));
        await Store.SettleAsync(LeaseOf(admitted, subject, rules, 500, "a", Store), 900, default);

        Assert.Equal(0, Assert.Single(await Store.ShowAsync(subject, rules, default)).BudgetUsed);
    }

    [RedisFact]
    public async Task Charge_RealtimeResponse_CountsAgainstBudgetAndWindowAndSaysWhatIsLeft()
    {
        var subject = NewSubject();
        var rules = Rules("budget=1000/day,tpm=10k");

        var left = await Store.ChargeAsync(subject, rules, 700, default);
        Assert.Equal(300, left!.Value.Left);
        left = await Store.ChargeAsync(subject, rules, 700, default);
        Assert.Equal(-400, left!.Value.Left);

        var report = Assert.Single(await Store.ShowAsync(subject, rules, default));
        Assert.Equal(1400, report.BudgetUsed);
        Assert.Equal(1400, report.TokensLastMinute);
        Assert.Equal(Verdict.BudgetExhausted, (await AdmitAsync(subject, rules)).Verdict);
    }

    [RedisFact]
    public async Task Charge_NoBudget_ReturnsNone()
    {
        Assert.Null(await Store.ChargeAsync(NewSubject(), Rules("tpm=100"), 5, default));
    }

    [RedisFact]
    public async Task Admit_ModelRule_IsHeldWithTheSubjectsOwnAndTheTighterIsReported()
    {
        var subject = NewSubject();
        var set = LimitSet.Parse("rpm=10,rpm[gpt-4o*]=2");

        Assert.Equal(2, set.For("gpt-4o-mini").Length);
        var first = await AdmitAsync(subject, set.For("gpt-4o-mini"));
        Assert.Equal(new RateWindow(2, 1, first.Requests!.Value.ResetMs), first.Requests);
        Assert.Equal(Verdict.Admitted, (await AdmitAsync(subject, set.For("gpt-4o"))).Verdict);
        Assert.Equal(Verdict.RequestsExceeded, (await AdmitAsync(subject, set.For("gpt-4o-mini"))).Verdict);

        // Another model is held to the subject's rule only, which counted the two above.
        var other = await AdmitAsync(subject, set.For("o3"));
        Assert.Equal(Verdict.Admitted, other.Verdict);
        Assert.Equal(new RateWindow(10, 7, other.Requests!.Value.ResetMs), other.Requests);
    }

    [RedisFact]
    public async Task Admit_RefusedRequest_ChangesNothing()
    {
        var subject = NewSubject();
        var rules = Rules("rpm=100,tpm=1000,concurrency=5,budget=500/total");

        Assert.Equal(Verdict.BudgetExhausted, (await AdmitAsync(subject, rules, estimate: 600)).Verdict);

        var report = Assert.Single(await Store.ShowAsync(subject, rules, default));
        Assert.Equal((0, 0, 0, 0), (report.RequestsLastMinute, report.TokensLastMinute, report.Open, report.BudgetUsed));
    }

    [RedisFact]
    public async Task Revocations_ReadThemOnlyWhenTheVersionMoved()
    {
        var id = "id" + Guid.NewGuid().ToString("N")[..10];
        var before = await Store.ReadRevocationsAsync(-1, default);

        Assert.True(await Store.RevokeAsync(id, default));
        Assert.False(await Store.RevokeAsync(id, default));

        var after = await Store.ReadRevocationsAsync(before.Version, default);
        Assert.Equal(before.Version + 1, after.Version);
        Assert.Contains(id, after.Ids!);
        Assert.Null((await Store.ReadRevocationsAsync(after.Version, default)).Ids);
    }
}

/// <summary>The contract in memory, on a fake clock.</summary>
public sealed class MemoryLimitStoreTests : LimitStoreContract
{
    private Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = null!;

    internal override Task<ILimitStore> CreateAsync(DateTimeOffset now, int utcOffsetSeconds)
    {
        _time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(now);
        return Task.FromResult<ILimitStore>(new MemoryLimitStore(_time, utcOffsetSeconds));
    }

    internal override void Advance(TimeSpan by) => _time.Advance(by);

    [Fact]
    public async Task Sweep_SubjectsGoneQuiet_LeaveNothingBehind()
    {
        var store = (MemoryLimitStore)Store;
        var rules = LimitSet.Parse("rpm=10,tpm=1000,concurrency=2,budget=100/day").For(null);
        for (var i = 0; i < 50; i++)
        {
            var subject = "key-" + i;
            var admitted = await store.AdmitAsync(new AdmissionRequest(subject, rules, 10, true, "l"), default);
            await store.SettleAsync(new Lease(new AdmissionRequest(subject, rules, 10, true, "l"), admitted.WindowSecond, admitted.Periods, store), 0, default);
        }

        Assert.True(store.EntryCount >= 50);
        Advance(TimeSpan.FromMinutes(2));
        await store.AdmitAsync(new AdmissionRequest("other", [], 0, true, "l"), default);

        Assert.Equal(0, store.EntryCount);
    }
}

/// <summary>The same days, counted from midnight in UTC+8.</summary>
public sealed class MemoryLimitStoreOffsetTests : LimitStoreContract
{
    private Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = null!;

    protected override int UtcOffsetSeconds => 8 * 3600;

    internal override Task<ILimitStore> CreateAsync(DateTimeOffset now, int utcOffsetSeconds)
    {
        _time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(now);
        return Task.FromResult<ILimitStore>(new MemoryLimitStore(_time, utcOffsetSeconds));
    }

    internal override void Advance(TimeSpan by) => _time.Advance(by);
}

/// <summary>The contract on a real Redis server, its clock moved by the scripts' skew.</summary>
public class RedisLimitStoreTests : LimitStoreContract
{
    private RedisServer? _server;
    private RedisConnection? _connection;
    private RedisLimitStore? _store;

    protected virtual bool Cluster => false;

    internal string ServerUrl => _server!.Url;

    internal override async Task<ILimitStore> CreateAsync(DateTimeOffset now, int utcOffsetSeconds)
    {
        _server = await RedisServer.StartAsync(Cluster);
        _connection = new RedisConnection(RedisStoreAddress.Parse("LIMITS_STORE", _server.Url), TimeSpan.FromSeconds(5), null);
        Assert.True(await _connection.WaitConnectedAsync(TimeSpan.FromSeconds(10), default));
        _store = new RedisLimitStore(_connection, utcOffsetSeconds) { ClockSkewMs = (long)(now - DateTimeOffset.UtcNow).TotalMilliseconds };
        return _store;
    }

    internal override void Advance(TimeSpan by) => _store!.ClockSkewMs += (long)by.TotalMilliseconds;

    public override async Task InitializeAsync()
    {
        if (RedisServer.Binary is not null || Environment.GetEnvironmentVariable("FCHANDLER_REQUIRE_REDIS") == "1")
        {
            await base.InitializeAsync();
        }
    }

    public override async Task DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>
/// The contract on a one-node Redis cluster, which refuses a script whose keys are in more than one slot (CROSSSLOT):
/// every script's keys share the subject's hash tag, as Tair's cluster mode requires.
/// </summary>
public sealed class RedisClusterLimitStoreTests : RedisLimitStoreTests
{
    protected override bool Cluster => true;

    [RedisFact]
    public async Task Cluster_KeysOfTwoSubjects_AreRefusedTogether_SoTheCheckIsReal()
    {
        var connection = await new RedisConnection(RedisStoreAddress.Parse("LIMITS_STORE", ServerUrl), TimeSpan.FromSeconds(5), null).Multiplexer;
        var keys = RedisLimitStore.Keys("alice", LimitSet.Parse("rpm=1").For(null)).Concat(RedisLimitStore.Keys("bob", LimitSet.Parse("rpm=1").For(null))).ToArray();

        var refused = await Assert.ThrowsAsync<StackExchange.Redis.RedisServerException>(
            () => connection.GetDatabase().ScriptEvaluateAsync("return redis.call('EXISTS', KEYS[1], KEYS[4])", keys));
        Assert.Contains("CROSSSLOT", refused.Message, StringComparison.Ordinal);
        await connection.DisposeAsync();
    }
}

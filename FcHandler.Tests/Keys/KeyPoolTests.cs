using FcHandler.Keys;
using FcHandler.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FcHandler.Tests.Keys;

/// <summary>The pool's choices: affinity, an even spread, cooldowns that end, one probe per key coming back.</summary>
public sealed class KeyPoolTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly LogCapture _logs = new();
    private readonly KeyPool _pool;

    public KeyPoolTests()
        => _pool = new KeyPool([.. PoolKit.Secrets.Select(pair => new UpstreamKey(pair.Value, pair.Key))], _time, new LoggerFactory([_logs]).CreateLogger<KeyPool>() is var logger ? new Logger(logger) : null!);

    private static readonly KeyVerdict RateLimited = new(KeyHealth.RateLimited, TimeSpan.FromSeconds(10), "429 rate_limit_exceeded");

    /// <summary>The key a request of <paramref name="subject"/> would get first; as the handler does, what it would not try goes back.</summary>
    private string Choose(string subject)
    {
        var choices = _pool.Choose(subject);
        foreach (var choice in choices)
        {
            _pool.Release(choice);
        }

        return choices[0].Key.Label;
    }

    [Fact]
    public void Subjects_KeepTheirKey_AndSpreadEvenly()
    {
        var subjects = Enumerable.Range(0, 3000).Select(i => $"user-{i}").ToArray();
        var first = subjects.Select(Choose).ToArray();

        Assert.Equal(first, subjects.Select(Choose));
        Assert.Equal(first, subjects.Select(subject => PoolKit.Order(subject)[0])); // the same on every instance
        foreach (var group in first.GroupBy(name => name))
        {
            Assert.InRange(group.Count(), 900, 1100);
        }
    }

    [Fact]
    public void RestingKey_MovesOnlyItsOwnSubjects_AndTheyComeBack()
    {
        var subjects = Enumerable.Range(0, 300).Select(i => $"user-{i}").ToArray();
        var before = subjects.Select(Choose).ToArray();
        var a = _pool.Choose(subjects.First(subject => Choose(subject) == "a"))[0];

        _pool.Report(a, RateLimited, "r1");
        var during = subjects.Select(Choose).ToArray();
        _time.Advance(TimeSpan.FromSeconds(11));
        foreach (var subject in subjects)
        {
            var choices = _pool.Choose(subject);
            _pool.Report(choices[0], KeyVerdict.Works, "r2");
            foreach (var unused in choices.Skip(1))
            {
                _pool.Release(unused);
            }
        }

        var after = subjects.Select(Choose).ToArray();

        Assert.All(before.Zip(during), pair => Assert.True(pair.First == "a" ? pair.Second != "a" : pair.Second == pair.First));
        Assert.Equal(before, after);
    }

    [Fact]
    public void KeyComingBack_IsTriedByOneRequest_OthersKeepTheirKeyUntilItAnswers()
    {
        var subject = Enumerable.Range(0, 100).Select(i => $"user-{i}").First(s => Choose(s) == "a");
        _pool.Report(_pool.Choose(subject)[0], RateLimited, "r1");
        _time.Advance(TimeSpan.FromSeconds(11));

        var probe = _pool.Choose(subject);
        var others = Enumerable.Range(0, 50).Select(_ => _pool.Choose(subject)[0]).ToArray();

        Assert.True(probe[0] is { Probe: true, Key.Label: "a" });
        Assert.All(others, choice => Assert.NotEqual("a", choice.Key.Label));

        _pool.Report(probe[0], KeyVerdict.Works, "r2");
        Assert.Equal("a", Choose(subject));
        Assert.Contains("Key a back in service: its probe request was answered", _logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public void ProbeThatSaysNothing_FreesTheKeyForTheNextRequest()
    {
        var subject = Enumerable.Range(0, 100).Select(i => $"user-{i}").First(s => Choose(s) == "a");
        _pool.Report(_pool.Choose(subject)[0], RateLimited, "r1");
        _time.Advance(TimeSpan.FromSeconds(11));

        _pool.Report(_pool.Choose(subject)[0], KeyVerdict.Unknown, "r2"); // a 504, a timeout

        Assert.True(_pool.Choose(subject)[0] is { Probe: true, Key.Label: "a" });
    }

    [Fact]
    public void RefusedKey_RestsLongerEachTime_ButIsNeverOutForGood()
    {
        var subject = Enumerable.Range(0, 100).Select(i => $"user-{i}").First(s => Choose(s) == "a");
        var refused = new KeyVerdict(KeyHealth.Refused, TimeSpan.Zero, "401 invalid_api_key");
        var rests = new List<TimeSpan>();
        for (var i = 0; i < 6; i++)
        {
            var choice = _pool.Choose(subject)[0];
            Assert.Equal("a", choice.Key.Label);
            _pool.Report(choice, refused, "r");
            rests.Add(_pool.Snapshot().Single(state => state.Key.Label == "a").Remaining);
            _time.Advance(rests[^1] + TimeSpan.FromSeconds(1));
        }

        Assert.Equal([5, 10, 20, 30, 30, 30], rests.Select(rest => rest.TotalMinutes));
    }

    [Fact]
    public void EveryKeyResting_TheOneBackSoonestIsUsed()
    {
        foreach (var (rest, index) in new[] { (30, 0), (10, 1), (20, 2) })
        {
            var choice = _pool.Choose("anyone").First(c => c.Index == index);
            _pool.Report(choice, RateLimited with { Cooldown = TimeSpan.FromSeconds(rest) }, "r");
        }

        var chosen = Assert.Single(_pool.Choose("anyone"));
        Assert.Equal(1, chosen.Index);
    }

    private sealed class Logger(ILogger inner) : ILogger<KeyPool>
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => inner.Log(logLevel, eventId, state, exception, formatter);
    }
}

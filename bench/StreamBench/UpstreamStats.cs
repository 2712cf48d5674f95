using System.Collections.Concurrent;
using System.Text;

namespace StreamBench;

/// <summary>
/// What the upstream counts for a run to report: requests per API key (the <c>Authorization</c> bearer, <c>(none)</c>
/// without one), how many it served (2xx, or 101 to a WebSocket) and how many it refused, so a run shows how a proxy's key pool spread its
/// subjects; and, per <c>X-Client-Request-Id</c>, how many attempts a request took (a proxy's failover sends the same
/// request again with its headers), answered as <c>x-bench-attempt</c>. Read with <c>GET /__stats</c> on the upstream's
/// port, <c>GET /__stats?reset=1</c> to read and start again from zero:
/// <c>{"requests":N,"keys":{"sk-a":{"requests":N,"ok":N,"refused":N},...}}</c>.
/// </summary>
internal sealed class UpstreamStats
{
    private ConcurrentDictionary<string, KeyCount> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);

    /// <summary>This request's attempt, 1 for the first with its id; 0 without an id.</summary>
    public int Attempt(string? requestId)
        => requestId is null ? 0 : _attempts.AddOrUpdate(requestId, 1, static (_, n) => n + 1);

    /// <summary>One answer to a request with <paramref name="key"/>; serving it ends the request's attempts.</summary>
    public void Answered(string key, int status, string? requestId)
    {
        var count = _keys.GetOrAdd(key, static _ => new KeyCount());
        Interlocked.Increment(ref count.Requests);
        if (status is >= 100 and < 300)
        {
            Interlocked.Increment(ref count.Ok);
            if (requestId is not null)
            {
                _attempts.TryRemove(requestId, out _);
            }
        }
        else
        {
            Interlocked.Increment(ref count.Refused);
        }
    }

    public string Json(bool reset)
    {
        var keys = reset ? Interlocked.Exchange(ref _keys, new(StringComparer.Ordinal)) : _keys;
        var json = new StringBuilder("{\"requests\":").Append(keys.Values.Sum(c => c.Requests)).Append(",\"keys\":{");
        json.AppendJoin(',', keys.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k =>
            $"\"{Escape(k.Key)}\":{{\"requests\":{k.Value.Requests},\"ok\":{k.Value.Ok},\"refused\":{k.Value.Refused}}}"));
        return json.Append("}}").ToString();
    }

    private static string Escape(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private sealed class KeyCount
    {
        public long Requests;
        public long Ok;
        public long Refused;
    }
}

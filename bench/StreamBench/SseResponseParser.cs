using System.Buffers.Text;

namespace StreamBench;

/// <summary>
/// Incremental parser of one HTTP/1.1 response carrying server-sent events: status line and headers, then a
/// chunked (or close-delimited) body, split into lines; each <c>data:</c> line with a <c>"t":</c> stamp yields one
/// delay sample (arrival minus stamp); each comment line (starting with <c>:</c>, such as a proxy's heartbeat) is only
/// timed, never an event. Proxies re-chunk freely, so an event may straddle chunks and reads.
/// </summary>
internal sealed class SseResponseParser(int expectedEvents)
{
    private readonly List<byte> _head = [];
    private readonly List<byte> _line = [];
    private bool _inBody;
    private bool _chunked;
    private long _chunkLeft = -1; // -1: reading a chunk-size line
    private int _crlfLeft;
    private readonly List<byte> _sizeLine = [];

    public List<double> Delays { get; } = new(expectedEvents);

    public long FirstArrival { get; private set; }

    /// <summary>When the response's first byte arrived; 0 before it.</summary>
    public long FirstByte { get; private set; }

    /// <summary>The upstream's <c>x-bench-attempt</c> relayed: which attempt of the request was served; 0 without it.</summary>
    public int Attempt { get; private set; }

    /// <summary>When each comment line arrived, in order.</summary>
    public List<long> Comments { get; } = [];

    public bool Done { get; private set; }

    public void Feed(ReadOnlySpan<byte> data, long arrived)
    {
        var i = 0;
        if (FirstByte == 0 && data.Length > 0)
        {
            FirstByte = arrived;
        }

        if (!_inBody)
        {
            for (; i < data.Length && !_inBody; i++)
            {
                _head.Add(data[i]);
                if (_head.Count >= 4 && _head[^1] == '\n' && _head[^2] == '\r' && _head[^3] == '\n' && _head[^4] == '\r')
                {
                    StartBody();
                }
            }
        }

        for (; i < data.Length && !Done; i++)
        {
            var b = data[i];
            if (!_chunked)
            {
                Body(b, arrived);
                continue;
            }

            if (_crlfLeft > 0)
            {
                _crlfLeft--;
            }
            else if (_chunkLeft < 0)
            {
                if (b != '\n')
                {
                    _sizeLine.Add(b);
                    continue;
                }

                var size = System.Text.Encoding.ASCII.GetString([.. _sizeLine]).Split(';')[0].Trim();
                _sizeLine.Clear();
                _chunkLeft = Convert.ToInt64(size, 16);
                if (_chunkLeft == 0)
                {
                    Done = true; // the terminating chunk: a body without [DONE] fails the event count check
                }
            }
            else
            {
                Body(b, arrived);
                if (--_chunkLeft == 0)
                {
                    _chunkLeft = -1;
                    _crlfLeft = 2;
                }
            }
        }
    }

    private void StartBody()
    {
        _inBody = true;
        var head = System.Text.Encoding.ASCII.GetString([.. _head]);
        var status = head.Length > 12 ? head.Substring(9, 3) : "???";
        if (status != "200")
        {
            throw new IOException($"status {status}");
        }

        _chunked = head.Contains("\ntransfer-encoding: chunked", StringComparison.OrdinalIgnoreCase);
        Attempt = SseUpstream.HeaderString(head, "x-bench-attempt") is { } attempt && int.TryParse(attempt, out var n) ? n : 0;
    }

    private void Body(byte b, long arrived)
    {
        if (b != '\n')
        {
            _line.Add(b);
            return;
        }

        var line = _line.ToArray().AsSpan();
        _line.Clear();
        if (line.StartsWith("data: [DONE]"u8))
        {
            Done = true;
            return;
        }

        if (line.StartsWith(":"u8))
        {
            Comments.Add(arrived);
            return;
        }

        var at = line.IndexOf("\"t\":"u8);
        if (!line.StartsWith("data:"u8) || at < 0 || !Utf8Parser.TryParse(line[(at + 4)..], out long stamp, out _))
        {
            return;
        }

        if (Delays.Count == 0)
        {
            FirstArrival = arrived;
        }

        Delays.Add(StreamClient.Micros(arrived - stamp));
    }
}

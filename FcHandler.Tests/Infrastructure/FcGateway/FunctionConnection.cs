using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace FcHandler.Tests.Infrastructure.FcGateway;

/// <summary>
/// One keep-alive HTTP/1.1 connection from the gateway to the function, spoken by hand so that nothing (no
/// SocketsHttpHandler retry) hides what the function did with it: a request is written once, and the response head is
/// read as it arrives; the body is then read chunk by chunk as the function flushes it.
/// </summary>
internal sealed class FunctionConnection : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;

    private FunctionConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    /// <summary>Requests served on this connection so far: above 0, it came from the pool.</summary>
    public int Served { get; set; }

    public static async Task<FunctionConnection> OpenAsync(Uri function, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(function.Host, function.Port, cancellationToken);
        return new FunctionConnection(client);
    }

    public async Task WriteRequestAsync(string method, string target, IEnumerable<KeyValuePair<string, string>> headers, byte[]? body, CancellationToken cancellationToken)
    {
        var head = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{method} {target} HTTP/1.1\r\n");
        foreach (var (name, value) in headers)
        {
            head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        if (body is not null)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n");
        }

        head.Append("\r\n");
        await _stream.WriteAsync(Encoding.Latin1.GetBytes(head.ToString()), cancellationToken);
        if (body is not null)
        {
            await _stream.WriteAsync(body, cancellationToken);
        }
    }

    /// <summary>The status line and headers; null when the function closed the connection before a byte of them.</summary>
    public async Task<(int Status, List<KeyValuePair<string, string>> Headers, int HeaderBytes)?> ReadHeadAsync(CancellationToken cancellationToken)
    {
        var status = await ReadLineAsync(cancellationToken);
        if (status is null)
        {
            return null;
        }

        var headers = new List<KeyValuePair<string, string>>();
        var bytes = status.Length + 2;
        for (var line = await ReadLineAsync(cancellationToken); !string.IsNullOrEmpty(line); line = await ReadLineAsync(cancellationToken))
        {
            bytes += line.Length + 2;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add(new(line[..colon], line[(colon + 1)..].Trim()));
        }

        return (int.Parse(status.AsSpan(9, 3), CultureInfo.InvariantCulture), headers, bytes);
    }

    /// <summary>The next piece of a chunked body as it arrives (null after the last chunk).</summary>
    public async Task<byte[]?> ReadChunkAsync(CancellationToken cancellationToken)
    {
        var size = await ReadLineAsync(cancellationToken) ?? throw new IOException("The function closed the connection inside a chunked body.");
        var length = int.Parse(size.Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var data = await ReadExactlyAsync(length, cancellationToken);
        await ReadLineAsync(cancellationToken); // the chunk's CRLF, or the end of the (empty) trailer section
        return length == 0 ? null : data;
    }

    public async Task<byte[]> ReadExactlyAsync(int length, CancellationToken cancellationToken)
    {
        var data = new byte[length];
        var filled = 0;
        while (filled < length)
        {
            if (_start == _end && !await FillAsync(cancellationToken))
            {
                throw new IOException("The function closed the connection inside a body.");
            }

            var take = Math.Min(length - filled, _end - _start);
            Array.Copy(_buffer, _start, data, filled, take);
            _start += take;
            filled += take;
        }

        return data;
    }

    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        while (true)
        {
            if (_start == _end && !await FillAsync(cancellationToken))
            {
                return line.Length == 0 ? null : throw new IOException("The function closed the connection inside a line.");
            }

            var b = _buffer[_start++];
            if (b == '\n')
            {
                return line.ToString().TrimEnd('\r');
            }

            line.Append((char)b);
        }
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        try
        {
            _end = await _stream.ReadAsync(_buffer, cancellationToken);
        }
        catch (IOException)
        {
            _end = 0; // reset by the function: closed, as far as the gateway can tell
        }

        _start = 0;
        return _end > 0;
    }

    /// <summary>After a 101: the connection as the WebSocket's, both ways, starting with what was read past the head.</summary>
    public Stream Upgraded() => new UpgradedConnection(_buffer[_start.._end], _stream, this);

    public void Dispose() => _client.Dispose();
}

using System.Globalization;
using System.Text;

namespace FcHandler.Tests.Infrastructure.FcGateway;

/// <summary>
/// A response as FC's gateway relays it: status and screened headers at once, the body read from the function piece
/// by piece as it arrives (FC streams a chunked response: https://help.aliyun.com/zh/fc/support/sse), or FC's own error.
/// </summary>
public sealed class FcResponse : IDisposable
{
    private readonly FunctionConnection? _connection;
    private readonly Action<FunctionConnection, bool>? _release;
    private readonly bool _chunked;
    private long _remaining;
    private byte[]? _gatewayBody;
    private bool _done;

    private FcResponse(int status, IReadOnlyList<KeyValuePair<string, string>> headers, FunctionConnection? connection, Action<FunctionConnection, bool>? release, bool chunked, long length)
    {
        Status = status;
        Headers = headers;
        _connection = connection;
        _release = release;
        _chunked = chunked;
        _remaining = length;
    }

    public int Status { get; }

    /// <summary>The function's headers FC relays (see <see cref="FcGateway"/> for those it drops).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>True when the gateway answered itself (400 InvalidArgument, 502), not the function.</summary>
    public bool FromFc { get; private init; }

    public string? Header(string name) => Headers.FirstOrDefault(header => header.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    internal static FcResponse FromGateway(int status, string code, string message)
        => new(status, [new("Content-Type", "application/json"), new("x-fc-error-type", code)], null, null, false, 0)
        {
            _gatewayBody = Encoding.UTF8.GetBytes($$"""{"ErrorCode":"{{code}}","ErrorMessage":"{{message}}"}"""),
            FromFc = true,
        };

    /// <summary>A 101: the function's headers, and no body (the connection is the WebSocket's now).</summary>
    internal static FcResponse Upgraded(List<KeyValuePair<string, string>> relayed) => new(101, relayed, null, null, false, 0) { _done = true };

    internal static FcResponse Start(
        int status, List<KeyValuePair<string, string>> relayed, List<KeyValuePair<string, string>> sent, bool head,
        FunctionConnection connection, Action<FunctionConnection, bool> release)
    {
        string? Sent(string name) => sent.FirstOrDefault(header => header.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
        var chunked = !head && Sent("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true;
        var length = head || chunked || status is 204 or 304 ? 0 : long.Parse(Sent("Content-Length") ?? "0", CultureInfo.InvariantCulture);
        var response = new FcResponse(status, relayed, connection, release, chunked, length);
        if (!chunked && length == 0)
        {
            response.Finish(reusable: true);
        }

        return response;
    }

    /// <summary>The body's next piece as the function sent it (a chunk, or the whole sized body); null at its end.</summary>
    public async Task<byte[]?> ReadChunkAsync(CancellationToken cancellationToken = default)
    {
        if (_gatewayBody is { } own)
        {
            _gatewayBody = null;
            _done = true;
            return own;
        }

        if (_done)
        {
            return null;
        }

        if (_chunked)
        {
            var chunk = await _connection!.ReadChunkAsync(cancellationToken);
            if (chunk is null)
            {
                Finish(reusable: true);
            }

            return chunk;
        }

        var body = await _connection!.ReadExactlyAsync((int)_remaining, cancellationToken);
        _remaining = 0;
        Finish(reusable: true);
        return body;
    }

    public async Task<string> ReadToEndAsync(CancellationToken cancellationToken = default)
    {
        using var all = new MemoryStream();
        while (await ReadChunkAsync(cancellationToken) is { } piece)
        {
            all.Write(piece);
        }

        return Encoding.UTF8.GetString(all.ToArray());
    }

    private void Finish(bool reusable)
    {
        if (!_done && _connection is not null)
        {
            _done = true;
            _release!(_connection, reusable);
        }

        _done = true;
    }

    /// <summary>A body not read to its end leaves the connection unusable: it is closed, as a client's cut-off does.</summary>
    public void Dispose() => Finish(reusable: false);
}

using System.Buffers;
using System.IO.Pipelines;
using FcHandler.Proxy.WebSockets;

namespace FcHandler.Tests.Proxy.WebSockets;

/// <summary>
/// A session's relay over in-memory pipes, driven as YARP drives it: reads of what the client sent, writes of what the
/// upstream sent.
/// </summary>
internal sealed class PipedRelay : IDisposable
{
    public PipedRelay(WebSocketSession session)
    {
        Session = session;
        Relay = session.Attach(new DuplexStream(FromClient.Reader.AsStream(), ToClient.Writer.AsStream()));
    }

    public Pipe FromClient { get; } = new();

    public Pipe ToClient { get; } = new();

    public WebSocketSession Session { get; }

    public WebSocketRelayStream Relay { get; }

    public async Task ClientSendsAsync(byte[] bytes) => await FromClient.Writer.WriteAsync(bytes);

    /// <summary>One read, as YARP's copy loop does it, of what goes to the upstream.</summary>
    public async Task<byte[]> RelayReadAsync()
    {
        var buffer = new byte[64 * 1024];
        var read = await Relay.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return buffer[..read];
    }

    /// <summary>Everything the client has received, once nothing more is written.</summary>
    public async Task<byte[]> ClientReceivedAsync()
    {
        ToClient.Writer.Complete();
        var result = await ToClient.Reader.ReadAtLeastAsync(int.MaxValue);
        return result.Buffer.ToArray();
    }

    public void Dispose()
    {
        Relay.Dispose();
        Session.Dispose();
    }
}

using System.Text;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// A close frame the proxy sends itself (RFC 6455 section 5.5.1), to both sides at their next frame boundary. When the
/// instance stops: 1001, "going away", the code a server that is shutting down uses (section 7.4.1), so clients know to
/// reconnect. Others carry the reason the proxy ended a session (a budget used up).
/// </summary>
internal sealed class CloseFrame
{
    public const int GoingAwayCode = 1001;

    /// <summary>The endpoint ends the connection because a message or the session breaks its policy (section 7.4.1).</summary>
    public const int PolicyViolationCode = 1008;

    /// <summary>A close payload is at most 125 bytes: the code's two, and the reason's.</summary>
    private const int MaxReasonBytes = 123;

    public static readonly CloseFrame GoingAway = new(GoingAwayCode, "proxy instance stopping, reconnect");

    private readonly byte[] _payload;

    public CloseFrame(int code, string reason)
    {
        var text = Encoding.UTF8.GetBytes(reason);
        if (text.Length > MaxReasonBytes)
        {
            throw new ArgumentException($"A close reason has at most {MaxReasonBytes} bytes.", nameof(reason));
        }

        Code = code;
        Reason = reason;
        _payload = [(byte)(code >> 8), (byte)(code & 0xFF), .. text];
        ToClient = ControlFrames.ToClient(ControlFrames.Close, _payload);
    }

    public int Code { get; }

    /// <summary>The reason the frame gives (for a refusal, an OpenAI error code, a colon, and why).</summary>
    public string Reason { get; }

    /// <summary>To the client, as a server sends it: unmasked. The same bytes every time.</summary>
    public byte[] ToClient { get; }

    /// <summary>To the upstream, as a client sends it: masked with a fresh random key.</summary>
    public byte[] ToUpstream() => ControlFrames.ToUpstream(ControlFrames.Close, _payload);
}

namespace FcHandler.Proxy.WebSockets;

/// <summary>Reads the messages of one direction of a relayed WebSocket as <see cref="FrameTracker"/> passes their bytes.</summary>
internal interface ITextMessages
{
    /// <summary>The next bytes of the message under way (unmasked).</summary>
    void MessageBytes(ReadOnlySpan<byte> payload);

    /// <summary>The message under way has ended.</summary>
    void EndMessage();
}

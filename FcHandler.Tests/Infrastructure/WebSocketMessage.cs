using System.Net.WebSockets;
using System.Text;

namespace FcHandler.Tests.Infrastructure;

/// <summary>One whole WebSocket message.</summary>
public sealed record WebSocketMessage(WebSocketMessageType Type, byte[] Data)
{
    public string Text => Encoding.UTF8.GetString(Data);
}

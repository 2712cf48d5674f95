using System.Net.WebSockets;

namespace FcHandler.Tests.Infrastructure;

/// <summary>How a WebSocket ended at the fake upstream: the close it received, or that the connection just went away.</summary>
public sealed record WebSocketEnd(WebSocketCloseStatus? CloseStatus, string? Description, bool Vanished);

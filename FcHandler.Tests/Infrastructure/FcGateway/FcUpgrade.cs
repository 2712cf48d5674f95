namespace FcHandler.Tests.Infrastructure.FcGateway;

/// <summary>The function's answer to a WebSocket handshake through the gateway, and after a 101 the WebSocket's connection.</summary>
public sealed record FcUpgrade(FcResponse Response, Stream? Connection);

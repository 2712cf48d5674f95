using FcHandler.Usage;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// Counts the responses of one relayed session (the limits step's <c>RealtimeBudget</c>): each reserved before it can
/// start and settled when it ends. The relay calls the upstream's side from its write path: those calls return at once.
/// </summary>
internal interface ISessionResponses
{
    /// <summary>
    /// A client's <c>response.create</c> is whole but for its last byte: reserves its bound (<paramref name="messageBytes"/>
    /// for its input, <paramref name="maxOutputTokens"/> or the default for its output) under the limits of
    /// <paramref name="model"/>. Null when reserved; else the close frame that refuses it.
    /// </summary>
    Task<CloseFrame?> ReserveAsync(long messageBytes, long? maxOutputTokens, string? model);

    /// <summary>
    /// Whether a client message may carry input the proxy cannot meter, of the class <paramref name="spendClass"/>
    /// (<c>stored_input</c>, <c>hosted_tools</c>): yes when the limits allow the class, or when no budget or TPM limit
    /// counts the tokens of <paramref name="model"/> (null: of any model the session may use).
    /// </summary>
    bool AllowsUnmetered(string spendClass, string? model);

    /// <summary>The upstream's <c>response.created</c>: the oldest reservation not yet matched is this response's.</summary>
    void Created(string? responseId, string? model);

    /// <summary>The upstream's end event of a response (<c>response.done</c>, <c>response.completed</c>, ...), with its usage.</summary>
    void Ended(string? responseId, TokenUsage? usage);

    /// <summary>The upstream's <c>error</c> event: the oldest reservation not yet matched never became a response.</summary>
    void Failed();
}

using System.Text;
using FcHandler.Logging;

namespace FcHandler.Proxy.WebSockets;

/// <summary>
/// Reads every message a client sends on a session that a model scope or a limit applies to, and decides each one
/// before the upstream can act on it: a message that names a model the token does not allow, that cannot be read one
/// way only, that carries input whose cost its bytes do not bound (input it only refers to, a tool OpenAI runs) under a
/// budget or TPM limit that does not allow it (<c>unmetered=</c>), or whose <c>response.create</c> cannot be reserved,
/// is refused. The relay holds back each message's last byte until <see cref="DecideAsync"/> has answered
/// (<see cref="RelayFromClient"/>), so a refused message never reaches the upstream whole, and the upstream only runs
/// whole messages. A session without a scope or a limit has no gate and its messages are never read.
/// </summary>
/// <param name="allowsModel">The token's model scope; null when it has none.</param>
/// <param name="namesModelPerResponse">The Responses API's WebSocket mode: every <c>response.create</c> names its model.</param>
/// <param name="responses">The limits step's counter of the session's responses; null when no limit applies.</param>
/// <param name="exchange">Told the model a message moved the session to, for the access line.</param>
/// <param name="logger">Where a refusal is logged (its code, never the message).</param>
/// <param name="requestId">The session's request id, for that line.</param>
internal sealed class ClientMessageGate(
    Func<string, bool>? allowsModel, bool namesModelPerResponse, ISessionResponses? responses, ProxyExchange? exchange, ILogger logger, string requestId)
    : ITextMessages
{
    /// <summary>The type of the client events that start a response, in both APIs.</summary>
    public const string ResponseCreate = "response.create";

    private readonly JsonMessageScan _scan = new(readsInput: true);
    private long _bytes;
    private bool _ended;
    private string? _sessionModel = exchange?.Model;

    public void MessageBytes(ReadOnlySpan<byte> payload)
    {
        _bytes += payload.Length;
        _scan.Advance(payload);
    }

    public void EndMessage()
    {
        _scan.End();
        _ended = true;
    }

    /// <summary>Decides the message that has just ended: null to let it go upstream, else the close frame that refuses it.</summary>
    public async ValueTask<CloseFrame?> DecideAsync()
    {
        if (!_ended)
        {
            return null;
        }

        var (bytes, type, problem, cap, named) = (_bytes, _scan.Type, _scan.Problem, _scan.MaxOutputTokens, _scan.MainModel);
        var models = _scan.Models.ToArray();
        var unmetered = _scan.Unmetered;
        (_bytes, _ended) = (0, false);
        _scan.Reset();

        if (problem is not null)
        {
            return Refused("invalid_request_error", $"the proxy must read this message one way only, and {problem}");
        }

        foreach (var model in models)
        {
            if (allowsModel is not null && !allowsModel(model))
            {
                return Refused("model_not_allowed", "the access token does not allow the model this message names");
            }
        }

        var creates = type == ResponseCreate;
        if (creates && namesModelPerResponse && allowsModel is not null && named is null)
        {
            return Refused("model_not_allowed", "response.create must name a model the access token allows");
        }

        // The access line names the model last used: a Realtime session.update moves the session to it, a Responses
        // response.create runs on it (and says nothing of the next).
        if (named is not null)
        {
            exchange?.Model = named;
            _sessionModel = creates ? _sessionModel : named;
        }

        // As an HTTP request's (LimitsMiddleware, UnboundedInputScan). A Responses message is held to the limits of the
        // model it runs on; a Realtime session keeps the tools, prompt and items it is given across a move to another
        // model, so there any budget or TPM limit of the subject's holds.
        if (unmetered is var (spendClass, what) && responses is not null
            && !responses.AllowsUnmetered(spendClass, namesModelPerResponse ? named ?? _sessionModel : null))
        {
            return Refused("input_not_metered", $"{spendClass}: {what}");
        }

        if (!creates || responses is null || await responses.ReserveAsync(bytes, cap, named ?? _sessionModel).ConfigureAwait(false) is not { } refusal)
        {
            return null;
        }

        Log(refusal.Reason);
        return refusal;
    }

    private CloseFrame Refused(string code, string why)
    {
        var refusal = Refusal(code, why);
        Log(refusal.Reason);
        return refusal;
    }

    private void Log(string reason)
        => ProxyLog.WebSocketMessageRefused(logger, reason[..Math.Max(0, reason.IndexOf(':'))], exchange?.Subject ?? "-", requestId);

    /// <summary>A 1008 close whose reason is an OpenAI error code and why, within the 123 bytes a close reason has.</summary>
    public static CloseFrame Refusal(string code, string why)
    {
        var reason = $"{code}: {why}";
        while (Encoding.UTF8.GetByteCount(reason) > 123)
        {
            reason = reason[..^1];
        }

        return new CloseFrame(CloseFrame.PolicyViolationCode, reason);
    }
}

using FcHandler.Proxy.WebSockets;

namespace FcHandler.Usage;

/// <summary>
/// The usage a Realtime or Responses WebSocket session reports, summed over the events that end its responses: the
/// Realtime API's <c>response.done</c>, the Responses API's <c>response.completed</c>, <c>response.incomplete</c> and
/// <c>response.failed</c>. Each counts once, read only at the event's <c>response.usage</c> (input, output, cached
/// tokens, ...). Fed the text messages the upstream sends as their frames pass through the relay, without holding them:
/// the first bytes of a message say whether it can be one of the events read here (OpenAI writes <c>"type"</c> first);
/// only those are scanned. <c>response.created</c> and <c>error</c> are read too, for <see cref="Responses"/>, which
/// matches them to the reservations it made. Other events that carry usage (a transcription's) are another model's
/// tokens and are not added to the session's.
/// https://platform.openai.com/docs/api-reference/realtime-server-events/response/done,
/// https://developers.openai.com/api/reference/resources/responses/websocket-events
/// </summary>
internal sealed class RealtimeUsage : ITextMessages
{
    /// <summary>How many of a message's first bytes may name its type; beyond them a message is not one read here.</summary>
    public const int TypeWindow = 128;

    private readonly byte[] _head = new byte[TypeWindow];
    private int _headLength;
    private bool? _scanned;
    private JsonMessageScan? _scan;

    /// <summary>
    /// Told each response's start and end (the limits step reserves and settles with them). Runs on the relay's write:
    /// it must return at once and leave anything slow to a task of its own.
    /// </summary>
    public ISessionResponses? Responses { get; set; }

    /// <summary>The sum of every response's usage so far; null before the first.</summary>
    public TokenUsage? Total { get; private set; }

    /// <summary>The next bytes of the text message under way.</summary>
    public void MessageBytes(ReadOnlySpan<byte> payload)
    {
        if (_scanned is null)
        {
            var take = Math.Min(payload.Length, TypeWindow - _headLength);
            payload[..take].CopyTo(_head.AsSpan(_headLength));
            _headLength += take;
            if (MayBeRead(_head.AsSpan(0, _headLength)))
            {
                _scanned = true;
                _scan ??= new JsonMessageScan();
                _scan.Reset();
                _scan.Advance(_head.AsSpan(0, _headLength));
                payload = payload[take..];
            }
            else if (_headLength == TypeWindow)
            {
                _scanned = false;
            }
        }

        if (_scanned == true && !payload.IsEmpty)
        {
            _scan!.Advance(payload);
        }
    }

    /// <summary>The text message under way has ended.</summary>
    public void EndMessage()
    {
        if (_scanned == true)
        {
            _scan!.End();
            if (_scan.Problem is null)
            {
                Read(_scan);
            }
        }

        _headLength = 0;
        _scanned = null;
    }

    private void Read(JsonMessageScan scan)
    {
        switch (scan.Type)
        {
            case "response.created":
                Responses?.Created(scan.ResponseId, scan.Models.Count > 0 ? scan.Models[0] : null);
                return;
            case "response.done" or "response.completed" or "response.incomplete" or "response.failed":
                if (scan.Usage is { IsEmpty: false } usage)
                {
                    Total = Total is { } sum ? sum.Plus(usage) : usage;
                }

                Responses?.Ended(scan.ResponseId, scan.Usage);
                return;
            case "error":
                Responses?.Failed();
                return;
        }
    }

    // A cheap look at the head before any scan: most events (deltas, audio) are none of these.
    private static bool MayBeRead(ReadOnlySpan<byte> head)
        => head.IndexOf("\"response.done\""u8) >= 0
            || head.IndexOf("\"response.completed\""u8) >= 0
            || head.IndexOf("\"response.created\""u8) >= 0
            || head.IndexOf("\"response.incomplete\""u8) >= 0
            || head.IndexOf("\"response.failed\""u8) >= 0
            || head.IndexOf("\"error\""u8) >= 0;
}

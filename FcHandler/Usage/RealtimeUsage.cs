namespace FcHandler.Usage;

/// <summary>
/// The usage a Realtime session reports, summed over its <c>response.done</c> events: each response's
/// <c>response.usage</c> (<c>input_tokens</c>, <c>output_tokens</c>, <c>input_token_details.cached_tokens</c>, ...)
/// counts once. Fed the text messages the upstream sends as their frames pass through the relay, without holding them:
/// the first bytes of a message say whether it may be a <c>response.done</c> (OpenAI writes <c>"type"</c> first), and
/// only those are scanned, by the same scanner as HTTP answers, which takes <c>response.usage</c> only when the
/// message's own top-level <c>type</c> is <c>response.done</c> (<see cref="UsagePlaces.RealtimeEvents"/>): the name in
/// a metadata key or an echoed tool, or a <c>usage</c> anywhere else in the message, is never read as a count. Other
/// events that carry usage (a transcription's top-level <c>usage</c>) are another model's tokens and are not added to
/// the session's.
/// https://platform.openai.com/docs/api-reference/realtime-server-events/response/done
/// </summary>
internal sealed class RealtimeUsage
{
    /// <summary>How many of a message's first bytes may name its type; beyond them a message is not a response.done.</summary>
    public const int TypeWindow = 128;

    private readonly byte[] _head = new byte[TypeWindow];
    private int _headLength;
    private bool? _isResponseDone;
    private UsageScanner? _scanner;

    /// <summary>
    /// Told each response's usage as its <c>response.done</c> passes (the limits step charges a budget with it). Runs on
    /// the relay's write: it must return at once and leave anything slow to a task of its own.
    /// </summary>
    public Action<TokenUsage>? ResponseDone { get; set; }

    /// <summary>The sum of every response's usage so far; null before the first.</summary>
    public TokenUsage? Total { get; private set; }

    private static ReadOnlySpan<byte> ResponseDoneType => "\"response.done\""u8;

    /// <summary>The next bytes of the text message under way.</summary>
    public void MessageBytes(ReadOnlySpan<byte> payload)
    {
        if (_isResponseDone is null)
        {
            var take = Math.Min(payload.Length, TypeWindow - _headLength);
            payload[..take].CopyTo(_head.AsSpan(_headLength));
            _headLength += take;
            if (_head.AsSpan(0, _headLength).IndexOf(ResponseDoneType) >= 0)
            {
                _isResponseDone = true;
                (_scanner ??= new UsageScanner(UsagePlaces.RealtimeEvents)).Observe(_head.AsSpan(0, _headLength));
                payload = payload[take..];
            }
            else if (_headLength == TypeWindow)
            {
                _isResponseDone = false;
            }
        }

        if (_isResponseDone == true && !payload.IsEmpty)
        {
            _scanner!.Observe(payload);
        }
    }

    /// <summary>The text message under way has ended.</summary>
    public void EndMessage()
    {
        if (_isResponseDone == true && _scanner!.Usage is { } usage)
        {
            Total = Total is { } sum ? sum.Plus(usage) : usage;
            ResponseDone?.Invoke(usage);
        }

        _headLength = 0;
        _isResponseDone = null;
        _scanner = null;
    }
}

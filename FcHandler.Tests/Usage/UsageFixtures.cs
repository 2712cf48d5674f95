using FcHandler.Tests.Infrastructure;
using FcHandler.Usage;

namespace FcHandler.Tests.Usage;

/// <summary>
/// Response bodies in the shapes OpenAI sends (FcHandler.Tests/Usage/Fixtures/), and the usage each one reports.
/// Non-streamed answers are pretty-printed, as OpenAI sends them; stream events are compact, as OpenAI sends them;
/// transcription streams end their lines with CRLF. Several contain decoys: an escaped <c>\"usage\"</c> inside text,
/// and tool schemas with a property called "usage" (the Responses API echoes its tools before the real usage).
/// </summary>
public static class UsageFixtures
{
    public static TheoryData<string> All => [.. Expected.Keys];

    public static TheoryData<string> WithUsage => [.. Expected.Where(pair => pair.Value is not null).Select(pair => pair.Key)];

    internal static IReadOnlyDictionary<string, TokenUsage?> Expected { get; } = new Dictionary<string, TokenUsage?>
    {
        ["chat-completion.json"] = new TokenUsage(2006, 300, 1920, 0, 2306, null),
        ["chat-completion-compact.json"] = new TokenUsage(34, 863, 0, 640, 897, null),
        ["chat-stream-include-usage.sse"] = new TokenUsage(22, 712, 0, 0, 734, null),
        ["chat-stream-no-usage.sse"] = null,
        ["responses.json"] = new TokenUsage(1250, 466, 1024, 384, 1716, null),
        ["responses-stream.sse"] = new TokenUsage(1250, 466, 1024, 384, 1716, null),
        ["embeddings.json"] = new TokenUsage(8, null, null, null, 8, null),
        ["transcription.json"] = new TokenUsage(17, 11, null, null, 28, null),
        ["transcription-whisper.json"] = new TokenUsage(null, null, null, null, null, 2),
        ["transcription-stream.sse"] = new TokenUsage(17, 10, null, null, 27, null),
        ["realtime-response-done.json"] = new TokenUsage(201, 177, 128, null, 378, null),
        ["error-401.json"] = null,
        ["error-403-region.json"] = null,
        ["error-429-quota.json"] = null,
        ["error-400-no-code.json"] = null,
    };

    /// <summary>The error code each error fixture carries (its <c>error.type</c> when the code is null).</summary>
    public static TheoryData<string, string> ErrorCodes => new()
    {
        { "error-401.json", "invalid_api_key" },
        { "error-403-region.json", "unsupported_country_region_territory" },
        { "error-429-quota.json", "insufficient_quota" },
        { "error-400-no-code.json", "invalid_request_error" },
    };

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(Fixtures.RepositoryRoot, "FcHandler.Tests", "Usage", "Fixtures", name));
}

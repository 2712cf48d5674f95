using FcHandler.Limits;
using FcHandler.Proxy;

namespace FcHandler.Tests.Limits;

public sealed class SpendTableTests
{
    [Theory]
    [InlineData("POST", "/v1/chat/completions", "Metered", null)]
    [InlineData("POST", "/v1/responses", "Metered", null)]
    [InlineData("POST", "/v1/images/edits", "Metered", null)]
    [InlineData("POST", "/v1/audio/transcriptions", "Metered", null)]
    [InlineData("POST", "/v1/engines/davinci/completions", "Metered", null)]
    [InlineData("GET", "/v1/responses/resp_1", "Free", null)]
    [InlineData("DELETE", "/v1/vector_stores/vs_1", "Free", null)]
    [InlineData("POST", "/v1/uploads/upload_1/parts", "Free", null)]
    [InlineData("POST", "/v1/fine_tuning/jobs/ftjob-1/cancel", "Free", null)]
    [InlineData("POST", "/v1/threads/thread_1/runs/run_1/cancel", "Free", null)]
    [InlineData("POST", "/v1/evals/eval_1/runs/run_1", "Free", null)]
    [InlineData("POST", "/v1/assistants", "Free", null)]
    [InlineData("POST", "/v1/batches", "Unmetered", "batches")]
    [InlineData("PUT", "/v1/batches", "Unmetered", "batches")]
    [InlineData("POST", "/v1/fine_tuning/alpha/graders/run", "Unmetered", "fine_tuning")]
    [InlineData("POST", "/v1/threads/thread_1/runs", "Unmetered", "assistants")]
    [InlineData("POST", "/v1/videos/video_1/remix", "Unmetered", "videos")]
    [InlineData("POST", "/v1/realtime/transcription_sessions", "Unmetered", "realtime_keys")]
    [InlineData("POST", "/v1/realtime/calls/call_1/accept", "Unmetered", "realtime_calls")]
    [InlineData("POST", "/v1/engines/davinci/fine-tunes", "Unmetered", "other")]
    [InlineData("POST", "/v1/chatkit/sessions", "Unmetered", "other")]
    public void Of_MethodAndPath_IsItsKindAndClass(string method, string path, string kind, string? spendClass)
        => Assert.Equal((Enum.Parse<SpendKind>(kind), spendClass), SpendTable.Of(method, path));

    [Theory]
    [InlineData("/v1//chat/completions", "/v1/chat/completions")]
    [InlineData("/v1/chat/completions/", "/v1/chat/completions")]
    [InlineData("///v1///models//", "/v1/models")]
    [InlineData("//", "/")]
    public void CanonicalPath_SlashRunsAndATrailingSlash_Go(string path, string canonical)
        => Assert.Equal(canonical, CanonicalPath.Of(path));
}

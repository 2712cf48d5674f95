using FcHandler.Proxy;

namespace FcHandler.Tests.Proxy;

public sealed class RouteTableTests
{
    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/completions")]
    [InlineData("/v1/responses")]
    [InlineData("/v1/responses/resp_123")]
    [InlineData("/v1/responses/resp_123/input_items")]
    [InlineData("/v1/embeddings")]
    [InlineData("/v1/moderations")]
    [InlineData("/v1/audio/transcriptions")]
    [InlineData("/v1/audio/speech")]
    [InlineData("/v1/images/generations")]
    [InlineData("/v1/images/edits")]
    [InlineData("/v1/edits")]
    [InlineData("/v1/answers")]
    [InlineData("/v1/engines/davinci/completions")]
    [InlineData("/v1/engines/text-davinci-003/chat/completions")]
    [InlineData("/v1/engines/ada/embeddings")]
    [InlineData("/v1/engines/ada/search")]
    public void Classify_GenerationPath_IsGeneration(string path)
        => Assert.Equal(RouteClass.Generation, RouteTable.Classify(path));

    [Theory]
    [InlineData("/v1")]
    [InlineData("/v1/models")]
    [InlineData("/v1/models/gpt-4o")]
    [InlineData("/v1/files")]
    [InlineData("/v1/files/file-abc/content")]
    [InlineData("/v1/batches")]
    [InlineData("/v1/fine_tuning/jobs")]
    [InlineData("/v1/uploads/upload_1/parts")]
    [InlineData("/v1/vector_stores/vs_1/files")]
    [InlineData("/v1/assistants")]
    [InlineData("/v1/threads/thread_1/runs")]
    [InlineData("/v1/organization/usage/completions")]
    [InlineData("/v1/chat/completions/chatcmpl-1")] // a stored completion, read back: not a generation
    [InlineData("/v1/responsesx")] // a prefix of a generation path is not that path
    [InlineData("/v1/realtimex")]
    [InlineData("/v1/engines")]
    [InlineData("/v1/engines/davinci")]
    [InlineData("/v1/engines//completions")]
    [InlineData("/v1/a-future-endpoint")]
    public void Classify_OtherV1Path_IsPassThrough(string path)
        => Assert.Equal(RouteClass.PassThrough, RouteTable.Classify(path));

    [Theory]
    [InlineData("/v1/realtime")]
    [InlineData("/v1/realtime/client_secrets")]
    [InlineData("/v1/realtime/calls")]
    [InlineData("/v1/realtime/calls/rtc_123/accept")]
    [InlineData("/v1/realtime/sessions")]
    [InlineData("/v1/realtime/transcription_sessions")]
    public void Classify_RealtimePath_IsRealtime(string path)
        => Assert.Equal(RouteClass.Realtime, RouteTable.Classify(path));

    [Fact]
    public void Classify_Healthz_IsHealth()
        => Assert.Equal(RouteClass.Health, RouteTable.Classify("/healthz"));

    [Theory]
    [InlineData("/")]
    [InlineData("")]
    [InlineData("/v2/models")]
    [InlineData("/v1x")]
    [InlineData("/V1/models")]
    [InlineData("//v1/models")]
    [InlineData("/healthz/x")]
    [InlineData("/admin")]
    [InlineData("/chat/completions")] // a client whose base URL lacks /v1
    public void Classify_PathOutsideV1_IsRejected(string path)
        => Assert.Equal(RouteClass.Rejected, RouteTable.Classify(path));
}

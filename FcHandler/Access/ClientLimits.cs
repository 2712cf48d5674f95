using FcHandler.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FcHandler.Access;

/// <summary>
/// What a client may send and how slowly, and how much temporary storage its body may take. The body limits are
/// enforced by <see cref="RequestBodyBuffer"/> with OpenAI-shaped errors; the rest are Kestrel's, which refuses before
/// the app runs (with an empty 4xx; see docs/limits-and-faults.md).
/// </summary>
internal sealed class ClientLimits
{
    /// <summary>The largest request body (<c>MAX_REQUEST_BODY_MB</c>). Defaults to 32 MB, FC's own limit.</summary>
    public long MaxRequestBodyBytes { get; init; } = HostingExtensions.MaxRequestBodyBytes;

    /// <summary>
    /// How long a client may take to send its request headers, and how long its upload may run below
    /// <see cref="MinRequestBodyBytesPerSecond"/> before it is cut off (<c>CLIENT_TIMEOUT</c>). Defaults to 15 seconds:
    /// a slow-loris client cannot hold an instance's connections, and a slow mobile upload still gets through.
    /// </summary>
    public TimeSpan ClientTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The most temporary storage the spooled request bodies of all concurrent requests may take together
    /// (<c>TEMP_STORAGE_MB</c>). Defaults to 256 MB: half of FC's default <c>/tmp</c> (<c>diskSize: 512</c>), room for
    /// eight 32 MB uploads at once and for whatever else writes there.
    /// </summary>
    public long TempStorageBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// Where request bodies over <see cref="MemoryBufferBytes"/> are spooled (<c>TEMP_STORAGE_DIR</c>). Defaults to the
    /// system's temporary directory (<c>TMPDIR</c>, else <c>/tmp</c>).
    /// </summary>
    public string TempStorageDirectory { get; init; } = Path.GetTempPath();

    /// <summary>
    /// Request line and headers together. FC admits at most 8 KB of client headers, then adds its own x-fc-* headers
    /// (an STS token among them), so twice that leaves room for FC and still refuses a header flood early.
    /// Kestrel's default is 32 KB.
    /// </summary>
    public const int MaxRequestHeadersTotalBytes = 16 * 1024;

    /// <summary>Method, target and version. FC admits 4 KB of path and query; Kestrel's 8 KB default is kept.</summary>
    public const int MaxRequestLineBytes = 8 * 1024;

    /// <summary>Kestrel's default minimum upload rate, kept; only its grace period follows <see cref="ClientTimeout"/>.</summary>
    public const double MinRequestBodyBytesPerSecond = 240;

    /// <summary>Bodies up to this size are buffered in memory, larger ones in a temporary file (128 MB instances).</summary>
    public const int MemoryBufferBytes = 64 * 1024;

    /// <summary>
    /// How long a connection may sit idle, before its first request or between two, before Kestrel closes it: Kestrel's
    /// default, 130 seconds, kept on purpose. FC's gateway keeps its connections to the function open for reuse
    /// (https://help.aliyun.com/document_detail/2513503.html); closing them sooner than it expects would race its next
    /// request. An idle connection costs a socket and about 8 KB (measured on the NativeAOT build: 1,000 of them, +8 MB),
    /// and sends nothing to the upstream; clients that do send are held to <see cref="ClientTimeout"/> from their first
    /// byte.
    /// </summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(130);

    public void ApplyTo(KestrelServerLimits limits)
    {
        limits.MaxRequestBodySize = MaxRequestBodyBytes;
        limits.MaxRequestHeadersTotalSize = MaxRequestHeadersTotalBytes;
        limits.MaxRequestLineSize = MaxRequestLineBytes;
        limits.RequestHeadersTimeout = ClientTimeout;
        limits.MinRequestBodyDataRate = new MinDataRate(MinRequestBodyBytesPerSecond, ClientTimeout);
        limits.KeepAliveTimeout = KeepAliveTimeout;
    }
}

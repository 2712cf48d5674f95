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
    /// How long a connection may sit idle between two requests (or before its first) before Kestrel closes it: a year,
    /// in effect never.
    /// FC's gateway keeps its connections to the function open and reuses them; on a connection the server has closed
    /// it retries GET and HEAD but answers a POST with 502, so Alibaba asks custom runtimes to disable the idle timeout
    /// or set it above 15 minutes (FAQ "Process exited unexpectedly before completing request",
    /// https://help.aliyun.com/zh/fc/support/how-to-handle-a-502-error-process-exited-unexpectedly-before-completing-request).
    /// Kestrel's default, 130 seconds, closed them under sparse traffic. A year rather than 15 minutes because FC freezes an
    /// idle instance and the clock runs on while it is frozen: on thaw, Kestrel's first heartbeat would close every
    /// connection idle longer than the timeout while the request that thawed the instance arrives on one of them. Not
    /// <see cref="Timeout.InfiniteTimeSpan"/>: Kestrel 10 stores it as <see cref="TimeSpan.MaxValue"/>, its deadline
    /// arithmetic overflows, and the first heartbeat closes every idle connection (seen here: a keep-alive connection
    /// closed within 3 seconds).
    /// Slow clients are still cut: Kestrel switches from this timeout to <see cref="ClientTimeout"/> at a request's first
    /// byte. A connection that never sends a byte costs a socket and about 8 KB (measured on the NativeAOT build: 1,000 of
    /// them, +8 MB), and only FC's gateway can open one to a function.
    /// </summary>
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromDays(365);

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

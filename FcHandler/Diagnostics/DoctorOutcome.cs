namespace FcHandler.Diagnostics;

/// <summary><c>FcHandler doctor</c>'s exit codes, one per outcome (docs/commands.md, "doctor").</summary>
internal enum DoctorOutcome
{
    /// <summary>Every step checked passed (without <c>OPENAI_API_KEY</c>, the API itself was not asked).</summary>
    Healthy = 0,

    /// <summary>Bad arguments, or a setting the proxy would refuse (<c>UPSTREAM_BASE_URL</c>).</summary>
    BadUsage = 2,

    /// <summary>The upstream's name does not resolve.</summary>
    DnsFailed = 3,

    /// <summary>No TCP connection to any of its addresses.</summary>
    ConnectFailed = 4,

    /// <summary>The TLS handshake failed, or the certificate is not trusted.</summary>
    TlsFailed = 5,

    /// <summary>401: OpenAI rejects the key.</summary>
    KeyRejected = 6,

    /// <summary>403 <c>unsupported_country_region_territory</c>: OpenAI refuses the function's region.</summary>
    RegionRefused = 7,

    /// <summary>429: the key's quota is exhausted, or it is rate limited.</summary>
    QuotaOrRateLimit = 8,

    /// <summary>Any other answer, or none.</summary>
    UnexpectedAnswer = 9,
}

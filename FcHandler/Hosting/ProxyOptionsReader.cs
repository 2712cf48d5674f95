using FcHandler.Proxy;

namespace FcHandler.Hosting;

/// <summary>
/// Reads and validates <see cref="ProxyOptions"/>. Any bad value stops start-up with a
/// <see cref="ConfigurationException"/> that names the setting: a proxy half-configured is worse than none.
/// </summary>
internal static class ProxyOptionsReader
{
    public static ProxyOptions Read(IConfiguration configuration)
    {
        var defaults = new ProxyOptions();
        return new ProxyOptions
        {
            UpstreamBaseUrl = ReadUpstream(configuration[ConfigKeys.UpstreamBaseUrl]) ?? defaults.UpstreamBaseUrl,
            GenerationTimeout = Duration.Read(configuration, ConfigKeys.GenerationTimeout) ?? defaults.GenerationTimeout,
            DefaultTimeout = Duration.Read(configuration, ConfigKeys.DefaultTimeout) ?? defaults.DefaultTimeout,
            ConnectTimeout = Duration.Read(configuration, ConfigKeys.ConnectTimeout) ?? defaults.ConnectTimeout,
            SseHeartbeat = ReadInterval(configuration, ConfigKeys.SseHeartbeat) ?? defaults.SseHeartbeat,
            WebSocketPing = ReadInterval(configuration, ConfigKeys.WebSocketPing) ?? defaults.WebSocketPing,
            UpstreamTrustAnchors = ReadTrustAnchors(configuration[ConfigKeys.UpstreamCaFile]),
            CorsAllowedOrigins = ReadOrigins(configuration[ConfigKeys.CorsAllowedOrigins]),
            ForwardHeaders = ForwardHeadersReader.Read(configuration[ConfigKeys.ProxyForwardHeaders]),
        };
    }

    // A keep-alive interval: a duration, or 0 / off for none (zero); null when unset.
    private static TimeSpan? ReadInterval(IConfiguration configuration, string key)
        => configuration[key]?.Trim() is "0" or "off" or "OFF" or "Off" ? TimeSpan.Zero : Duration.Read(configuration, key);

    private static Uri? ReadUpstream(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        const string Example = "such as https://api.openai.com or https://gateway.example.com/openai";
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || string.IsNullOrEmpty(uri.Host))
        {
            throw new ConfigurationException(
                $"{ConfigKeys.UpstreamBaseUrl} must be an absolute http or https URL {Example}; got '{Redact(value)}'.");
        }

        // User info would be a credential in the URL (and would end up in logs); a query or fragment could not be
        // joined with the client's own path and query without ambiguity.
        if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new ConfigurationException(
                $"{ConfigKeys.UpstreamBaseUrl} must have no user info, query or fragment, only scheme, host, port and an optional path, {Example}.");
        }

        return uri;
    }

    private static TrustAnchors? ReadTrustAnchors(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        const string Example = "such as /code/certs/gateway-ca.pem";
        var path = value.Trim();
        TrustAnchors anchors;
        try
        {
            anchors = TrustAnchors.Parse(File.ReadAllText(path));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new ConfigurationException(
                $"{ConfigKeys.UpstreamCaFile} must name a readable PEM file of root certificates, {Example}; '{path}' could not be read ({exception.Message}).");
        }

        if (anchors.Count == 0)
        {
            throw new ConfigurationException(
                $"{ConfigKeys.UpstreamCaFile} must hold at least one certificate (a -----BEGIN CERTIFICATE----- block), {Example}; '{path}' holds none.");
        }

        return anchors;
    }

    private static string[] ReadOrigins(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Trim() == "*")
        {
            return [];
        }

        var origins = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var origin in origins)
        {
            // An origin is scheme://host[:port], nothing else; browsers send it exactly so.
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                || uri.GetLeftPart(UriPartial.Authority) != origin.TrimEnd('/')
                || origin.EndsWith('/'))
            {
                throw new ConfigurationException(
                    $"{ConfigKeys.CorsAllowedOrigins} must be * or a comma-separated list of origins such as https://app.example.com,http://localhost:3000; '{origin}' is not an origin.");
            }
        }

        return origins;
    }

    // An API key pasted into the wrong variable must not end up in the start-up log.
    private static string Redact(string value)
        => value.Contains("sk-", StringComparison.Ordinal) ? "(a value that looks like an API key, not shown)" : value;
}

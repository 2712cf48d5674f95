using System.Globalization;
using FcHandler.Hosting;

namespace FcHandler.Limits;

/// <summary>
/// <c>LIMITS_STORE</c> when it names a Redis-protocol store: <c>redis://[user:password@]host[:port][/database]</c>, or
/// <c>rediss://</c> for TLS. On Alibaba Cloud that is a Tair (ApsaraDB for Redis) instance in the function's VPC, whose
/// account and password go before the <c>@</c> (URL-encode a password's special characters). The password is never
/// printed: <see cref="ToString"/> leaves it out, and so does every message about the setting.
/// </summary>
internal sealed record RedisStoreAddress(string Host, int Port, string? User, string? Password, int Database, bool Tls)
{
    public const int DefaultPort = 6379;

    private const string Example = "such as redis://:password@r-xxxx.redis.rds.aliyuncs.com:6379/0";

    /// <summary>The address, or a <see cref="ConfigurationException"/> that says what is wrong without repeating the value.</summary>
    public static RedisStoreAddress Parse(string key, string value)
    {
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("redis" or "rediss") || uri.Host.Length == 0)
        {
            throw new ConfigurationException($"{key} must be memory, or a redis:// or rediss:// URL {Example}.");
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw new ConfigurationException($"{key} takes no query or fragment: only user, password, host, port and database, {Example}.");
        }

        var path = uri.AbsolutePath.Trim('/');
        var database = 0;
        if (path.Length > 0 && (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out database) || database > 255))
        {
            throw new ConfigurationException($"{key} must end in a database number from 0 to 255 (or nothing, for 0), {Example}.");
        }

        string? user = null;
        string? password = null;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            user = Unescape(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            password = colon < 0 ? null : Unescape(uri.UserInfo[(colon + 1)..]);
        }

        return new RedisStoreAddress(uri.IdnHost, uri.IsDefaultPort || uri.Port < 0 ? DefaultPort : uri.Port, user, password, database, uri.Scheme == "rediss");
    }

    private static string? Unescape(string part) => part.Length == 0 ? null : Uri.UnescapeDataString(part);

    /// <summary>Scheme, host, port and database: what logs and messages may show.</summary>
    public override string ToString()
        => FormattableString.Invariant($"{(Tls ? "rediss" : "redis")}://{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port}/{Database}");
}

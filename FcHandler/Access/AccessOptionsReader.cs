using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using FcHandler.Hosting;
using FcHandler.Keys;

namespace FcHandler.Access;

/// <summary>
/// Reads and validates <see cref="AccessOptions"/>. Fails closed: a key without a way to admit clients, or tokens
/// that would admit nobody, stop start-up. Messages name the setting and never contain its value.
/// </summary>
internal static class AccessOptionsReader
{
    /// <summary>Shorter static tokens could be guessed; 16 characters of a generated token is ~96 bits.</summary>
    public const int MinStaticTokenLength = 16;

    /// <summary>A 32-character secret; HMAC-SHA256 gains nothing from a key longer than 64 bytes.</summary>
    public const int MinTokenSecretLength = 32;

    public const int MaxBodyMegabytes = 1024;

    /// <summary>FC's largest <c>diskSize</c>, 10 GB.</summary>
    public const int MaxTempStorageMegabytes = 10240;

    public static AccessOptions Read(IConfiguration configuration)
    {
        var serverKeys = KeyPoolReader.Read(configuration);

        // Messages name the setting the keys are in (KeyPoolReader has refused both at once).
        var keySetting = string.IsNullOrWhiteSpace(configuration[ConfigKeys.OpenAIApiKeys]) ? ConfigKeys.OpenAIApiKey : ConfigKeys.OpenAIApiKeys;
        var staticTokens = ReadStaticTokens(configuration[ConfigKeys.ProxyAccessTokens]);
        var secret = ReadSecret(configuration[ConfigKeys.ProxyTokenSecret], ConfigKeys.ProxyTokenSecret);

        if (serverKeys.Count > 0)
        {
            if (staticTokens.Length == 0 && secret is null)
            {
                throw new ConfigurationException(
                    $"{keySetting} is set, so the proxy keeps the key and clients must present an access token, " +
                    $"but neither {ConfigKeys.ProxyAccessTokens} nor {ConfigKeys.ProxyTokenSecret} is set. Set {ConfigKeys.ProxyAccessTokens} " +
                    $"(comma-separated tokens of at least {MinStaticTokenLength} characters) or {ConfigKeys.ProxyTokenSecret} (at least " +
                    $"{MinTokenSecretLength} characters, for tokens from 'token issue'); or remove {keySetting} to let clients send their own keys.");
            }
        }
        else if (staticTokens.Length > 0 || secret is not null)
        {
            // Tokens without a server key would look like protection and admit everyone with their own key.
            var setting = staticTokens.Length > 0 ? ConfigKeys.ProxyAccessTokens : ConfigKeys.ProxyTokenSecret;
            throw new ConfigurationException(
                $"{setting} is set but {ConfigKeys.OpenAIApiKey} is not: access tokens only apply when the proxy holds the OpenAI key " +
                $"(clients then send a token instead of a key). Set {ConfigKeys.OpenAIApiKey} (or a pool in {ConfigKeys.OpenAIApiKeys}), or remove {setting}.");
        }

        return new AccessOptions
        {
            ServerKeys = serverKeys,
            ServerKeysSetting = keySetting,
            StaticTokens = staticTokens,
            TokenSecret = secret,
            RevokedTokenIds = List(configuration[ConfigKeys.ProxyRevokedTokenIds]).ToFrozenSet(StringComparer.Ordinal),
            Limits = ReadLimits(configuration),
        };
    }

    /// <summary>The signing key as bytes, or null when unset; shared with <see cref="TokenCommand"/>.</summary>
    public static byte[]? ReadSecret(string? value, string key)
    {
        var secret = Trimmed(value);
        if (secret is null)
        {
            return null;
        }

        if (secret.Length < MinTokenSecretLength)
        {
            throw new ConfigurationException(
                $"{key} must be at least {MinTokenSecretLength} characters long; generate one with: openssl rand -base64 48");
        }

        return Encoding.UTF8.GetBytes(secret);
    }

    private static string[] ReadStaticTokens(string? value)
    {
        var tokens = List(value);
        for (var i = 0; i < tokens.Length; i++)
        {
            // Entries are named by position only: the message must not echo a token.
            if (tokens[i].Length < MinStaticTokenLength || tokens[i].AsSpan().ContainsAny(" \t\r\n"))
            {
                throw new ConfigurationException(
                    $"{ConfigKeys.ProxyAccessTokens} entry {i + 1} must be at least {MinStaticTokenLength} characters without spaces; generate one with: openssl rand -hex 24");
            }

            if (tokens[i].StartsWith(SignedToken.Prefix, StringComparison.Ordinal))
            {
                throw new ConfigurationException(
                    $"{ConfigKeys.ProxyAccessTokens} entry {i + 1} starts with '{SignedToken.Prefix}', which marks a signed token; signed tokens need no listing, only {ConfigKeys.ProxyTokenSecret}.");
            }
        }

        return tokens;
    }

    private static ClientLimits ReadLimits(IConfiguration configuration)
    {
        var defaults = new ClientLimits();
        var bodyBytes = ReadMegabytes(configuration, ConfigKeys.MaxRequestBodyMb, MaxBodyMegabytes, "32 (FC's own limit)")
            ?? defaults.MaxRequestBodyBytes;
        var storageBytes = ReadMegabytes(configuration, ConfigKeys.TempStorageMb, MaxTempStorageMegabytes, "256 (half of FC's default diskSize)")
            ?? defaults.TempStorageBytes;

        // Bodies are spooled whole: one larger than the whole budget could never be received, and its client would be
        // told to retry forever.
        if (storageBytes < bodyBytes)
        {
            throw new ConfigurationException(
                $"{ConfigKeys.TempStorageMb} ({storageBytes / (1024 * 1024)}) must be at least {ConfigKeys.MaxRequestBodyMb} ({bodyBytes / (1024 * 1024)}): " +
                "a request body is kept whole in temporary storage before it is forwarded. Raise it (and FC's diskSize), such as 256.");
        }

        var directory = configuration[ConfigKeys.TempStorageDir];
        if (string.IsNullOrWhiteSpace(directory))
        {
            directory = defaults.TempStorageDirectory;
        }
        else if (!Directory.Exists(directory = directory.Trim()))
        {
            throw new ConfigurationException($"{ConfigKeys.TempStorageDir} must be an existing directory such as /tmp; got '{directory}'.");
        }

        var timeout = Duration.Read(configuration, ConfigKeys.ClientTimeout) ?? defaults.ClientTimeout;

        // Kestrel checks rates once a second, and its minimum-rate grace period must be longer than that.
        if (timeout < TimeSpan.FromSeconds(2))
        {
            throw new ConfigurationException($"{ConfigKeys.ClientTimeout} must be at least 2s, such as 15s; got '{configuration[ConfigKeys.ClientTimeout]}'.");
        }

        return new ClientLimits
        {
            MaxRequestBodyBytes = bodyBytes,
            ClientTimeout = timeout,
            TempStorageBytes = storageBytes,
            TempStorageDirectory = directory,
        };
    }

    private static long? ReadMegabytes(IConfiguration configuration, string key, int max, string example)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (!int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var mb) || mb < 1 || mb > max)
        {
            throw new ConfigurationException($"{key} must be a whole number of megabytes from 1 to {max}, such as {example}; got '{value}'.");
        }

        return mb * 1024L * 1024;
    }

    private static string[] List(string? value)
        => string.IsNullOrWhiteSpace(value) ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? Trimmed(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

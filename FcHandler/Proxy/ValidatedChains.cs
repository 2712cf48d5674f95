using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FcHandler.Proxy;

/// <summary>
/// The upstream's certificate chains already verified against <c>UPSTREAM_CA_FILE</c>'s roots, so that a handshake which
/// presents the same certificates again skips the second chain build of <see cref="UpstreamCertificateCheck"/>. Each
/// build verifies the chain's signatures, public-key work that every new upstream connection paid (every Realtime
/// WebSocket session opens one): at 0.1 vCPU it was most of the 2 ms of CPU a TLS session cost the proxy more than
/// nginx, which keeps a verified session and resumes it. An entry is keyed by a SHA-256 digest of the exact bytes the
/// upstream presented (its certificate, then the others it sent), so a changed chain is verified again; it lasts until
/// the earliest expiry in the verified chain, so an expired one is verified again and refused. Only the chain's trust is
/// remembered: the host name is .NET's check, made on every handshake. Bounded: an upstream presents one chain or a
/// few, and a full set is emptied rather than grown.
/// </summary>
internal sealed class ValidatedChains(TimeProvider time)
{
    private const int Capacity = 16;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _validUntil = new(StringComparer.Ordinal);

    /// <summary>How many chains are remembered now.</summary>
    public int Count => _validUntil.Count;

    /// <summary>The key of what the upstream presented: its certificate, then the others it sent, in order.</summary>
    public static string KeyOf(X509Certificate2 leaf, IEnumerable<X509Certificate2> sent)
    {
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var certificate in sent.Prepend(leaf))
        {
            // Length-prefixed, so that two different lists of certificates never concatenate to the same bytes.
            var raw = certificate.RawDataMemory.Span;
            BinaryPrimitives.WriteInt32BigEndian(length, raw.Length);
            digest.AppendData(length);
            digest.AppendData(raw);
        }

        return Convert.ToHexString(digest.GetHashAndReset());
    }

    /// <summary>Whether the chain under <paramref name="key"/> was verified and has not expired since.</summary>
    public bool Contains(string key)
    {
        if (!_validUntil.TryGetValue(key, out var until))
        {
            return false;
        }

        if (time.GetUtcNow() < until)
        {
            return true;
        }

        _validUntil.TryRemove(key, out _);
        return false;
    }

    /// <summary>Remembers a chain that was just verified (<paramref name="verified"/>, as built) under <paramref name="key"/>.</summary>
    public void Add(string key, X509Chain verified)
    {
        var until = DateTimeOffset.MaxValue;
        foreach (var element in verified.ChainElements)
        {
            var notAfter = new DateTimeOffset(element.Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
            until = notAfter < until ? notAfter : until;
        }

        if (_validUntil.Count >= Capacity)
        {
            _validUntil.Clear();
        }

        _validUntil[key] = until;
    }
}

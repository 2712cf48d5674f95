using System.Collections.Concurrent;
using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace FcHandler.Proxy;

/// <summary>
/// The root certificates of a PEM bundle, turned into certificates only when a chain asks for them. .NET parses every
/// root of its trust store before it verifies the first chain, and again every five minutes: 144 roots of Debian's
/// bundle cost about 60 ms of CPU (bench/README.md), a tenth of a cold start's wall time on FC's 0.1 vCPU. Here the
/// bundle is only decoded (base64 and the subject name, no cryptography) when it is loaded; a root becomes an
/// <see cref="X509Certificate2"/> the first time a chain's issuer names it, and stays one. Verification itself is
/// .NET's: <see cref="X509Chain"/> with these roots as its custom trust (see <c>UpstreamCertificateCheck</c>).
/// </summary>
internal sealed class TrustAnchors
{
    private const string Begin = "-----BEGIN CERTIFICATE-----";
    private const string End = "-----END CERTIFICATE-----";

    private readonly Anchor[] _anchors;
    private readonly ConcurrentDictionary<string, X509Certificate2Collection> _rootsByIssuer = new(StringComparer.Ordinal);
    private X509Certificate2Collection? _all;
    private int _parsed;

    private TrustAnchors(Anchor[] anchors) => _anchors = anchors;

    /// <summary>How many roots the bundle holds.</summary>
    public int Count => _anchors.Length;

    /// <summary>How many roots have been turned into certificates so far (a root is parsed at most once).</summary>
    public int ParsedCount => Volatile.Read(ref _parsed);

    /// <summary>
    /// The roots of a PEM text: each <c>-----BEGIN CERTIFICATE-----</c> block, anything between blocks ignored (bundles
    /// carry comments). A block that is not a certificate makes the whole bundle invalid: a trust store read in part
    /// would fail later, on a handshake, and say less about why.
    /// </summary>
    /// <exception cref="FormatException">A block is not base64, or not an X.509 certificate.</exception>
    public static TrustAnchors Parse(string pem)
    {
        var anchors = new List<Anchor>();
        var scratch = Array.Empty<byte>();
        var at = 0;
        while ((at = pem.IndexOf(Begin, at, StringComparison.Ordinal)) >= 0)
        {
            var start = at + Begin.Length;
            var end = pem.IndexOf(End, start, StringComparison.Ordinal);
            if (end < 0)
            {
                throw new FormatException($"certificate {anchors.Count + 1} has no {End} line");
            }

            // Decoded from the text in place, into one reused buffer (the decoder skips the line breaks itself): this
            // runs before the proxy listens, and on 0.1 vCPU a copy of each block was garbage the first request paid
            // to collect.
            var block = pem.AsSpan(start, end - start);
            if (scratch.Length < block.Length)
            {
                scratch = new byte[block.Length];
            }

            if (!Convert.TryFromBase64Chars(block, scratch, out var length))
            {
                throw new FormatException($"certificate {anchors.Count + 1} is not base64");
            }

            var der = scratch.AsSpan(0, length).ToArray();
            anchors.Add(new Anchor(der, SubjectOf(der, anchors.Count + 1)));
            at = end + End.Length;
        }

        return new TrustAnchors([.. anchors]);
    }

    /// <summary>
    /// The roots that can complete a chain of <paramref name="presented"/> (the upstream's certificate and the
    /// intermediates it sent): those whose subject is, byte for byte, the issuer of one of them. Names encoded
    /// differently (OpenSSL compares them canonically) find none this way; then every root is offered, so such a chain
    /// is verified rather than refused, at the cost of parsing the bundle once.
    /// </summary>
    public X509Certificate2Collection RootsFor(IEnumerable<X509Certificate2> presented)
    {
        var issuers = presented.Select(certificate => certificate.IssuerName.RawData).ToArray();
        var key = string.Join('|', issuers.Select(Convert.ToHexString));
        return _rootsByIssuer.GetOrAdd(key, _ =>
        {
            var roots = new X509Certificate2Collection();
            foreach (var anchor in _anchors)
            {
                if (issuers.Any(issuer => issuer.AsSpan().SequenceEqual(anchor.Subject)))
                {
                    roots.Add(Certificate(anchor));
                }
            }

            return roots.Count > 0 ? roots : All();
        });
    }

    private X509Certificate2Collection All()
    {
        if (Volatile.Read(ref _all) is { } all)
        {
            return all;
        }

        all = [];
        foreach (var anchor in _anchors)
        {
            all.Add(Certificate(anchor));
        }

        return Interlocked.CompareExchange(ref _all, all, null) ?? all;
    }

    private X509Certificate2 Certificate(Anchor anchor)
    {
        lock (anchor)
        {
            if (anchor.Certificate is null)
            {
                anchor.Certificate = X509CertificateLoader.LoadCertificate(anchor.Der);
                Interlocked.Increment(ref _parsed);
            }

            return anchor.Certificate;
        }
    }

    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer,
    // validity, subject, ... }, ... } (RFC 5280 section 4.1): the subject Name, tag and length included, as
    // X500DistinguishedName.RawData holds an issuer.
    private static byte[] SubjectOf(byte[] der, int position)
    {
        try
        {
            var tbs = new AsnReader(der, AsnEncodingRules.DER).ReadSequence().ReadSequence();
            if (tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                tbs.ReadEncodedValue(); // version
            }

            for (var field = 0; field < 4; field++)
            {
                tbs.ReadEncodedValue(); // serialNumber, signature, issuer, validity
            }

            return tbs.ReadEncodedValue().ToArray();
        }
        catch (AsnContentException exception)
        {
            throw new FormatException($"certificate {position} is not an X.509 certificate ({exception.Message})", exception);
        }
    }

    private sealed class Anchor(byte[] der, byte[] subject)
    {
        public byte[] Der { get; } = der;

        public byte[] Subject { get; } = subject;

        public X509Certificate2? Certificate { get; set; }
    }
}

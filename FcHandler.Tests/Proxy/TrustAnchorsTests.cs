using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FcHandler.Proxy;

namespace FcHandler.Tests.Proxy;

/// <summary>Roots from a PEM bundle, parsed only when a chain names them; verification stays X509Chain's.</summary>
public sealed class TrustAnchorsTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static X509Certificate2 Root(X500DistinguishedName name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        return request.CreateSelfSigned(Now.AddDays(-1), Now.AddDays(30));
    }

    private static X509Certificate2 Root(string commonName) => Root(new X500DistinguishedName($"CN={commonName}"));

    /// <summary>An intermediate under <paramref name="issuer"/> and a leaf for upstream.test under it.</summary>
    private static (X509Certificate2 Leaf, X509Certificate2 Intermediate) Chain(X509Certificate2 issuer, X500DistinguishedName? issuerNameAsWritten = null)
    {
        using var issuerKey = issuer.GetECDsaPrivateKey()!;
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var intermediateRequest = new CertificateRequest("CN=test intermediate", intermediateKey, HashAlgorithmName.SHA256);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var intermediatePublic = intermediateRequest.Create(
            issuerNameAsWritten ?? issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), Now.AddDays(-1), Now.AddDays(20), [1, 2, 3]);
        var intermediate = intermediatePublic.CopyWithPrivateKey(intermediateKey);

        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=upstream.test", leafKey, HashAlgorithmName.SHA256);
        leafRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var leaf = leafRequest.Create(intermediate, Now.AddDays(-1), Now.AddDays(10), [4, 5, 6]);
        return (leaf, intermediate);
    }

    private static string Bundle(IEnumerable<X509Certificate2> roots)
        => "# a bundle, as Debian's, with comments between the blocks\n" +
           string.Join("\n# next\n", roots.Select(root => root.ExportCertificatePem())) + "\n";

    private static bool Verifies(X509Certificate2 leaf, X509Certificate2 intermediate, X509Certificate2Collection roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.ExtraStore.Add(intermediate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        return chain.Build(leaf);
    }

    [Fact]
    public void Parse_BundleOfRoots_DecodesEachButParsesNone()
    {
        var roots = Enumerable.Range(1, 20).Select(i => Root($"root {i}")).ToArray();

        var anchors = TrustAnchors.Parse(Bundle(roots));

        Assert.Equal(20, anchors.Count);
        Assert.Equal(0, anchors.ParsedCount);
    }

    [Fact]
    public void RootsFor_ChainUnderOneRoot_ParsesThatRootOnlyAndTheChainVerifies()
    {
        var roots = Enumerable.Range(1, 20).Select(i => Root($"root {i}")).ToArray();
        var anchors = TrustAnchors.Parse(Bundle(roots));
        var (leaf, intermediate) = Chain(roots[6]);

        var found = anchors.RootsFor([leaf, intermediate]);

        Assert.Equal(roots[6].Thumbprint, Assert.Single(found).Thumbprint);
        Assert.Equal(1, anchors.ParsedCount);
        Assert.True(Verifies(leaf, intermediate, found));
    }

    [Fact]
    public void RootsFor_SameChainAgain_ParsesNothingMore()
    {
        var roots = Enumerable.Range(1, 5).Select(i => Root($"root {i}")).ToArray();
        var anchors = TrustAnchors.Parse(Bundle(roots));
        var (leaf, intermediate) = Chain(roots[2]);

        var first = anchors.RootsFor([leaf, intermediate]);
        var second = anchors.RootsFor([leaf, intermediate]);

        Assert.Same(first, second);
        Assert.Equal(1, anchors.ParsedCount);
    }

    [Fact]
    public void RootsFor_ChainUnderARootNotInTheBundle_OffersEveryRootAndTheChainFails()
    {
        var roots = Enumerable.Range(1, 5).Select(i => Root($"root {i}")).ToArray();
        var anchors = TrustAnchors.Parse(Bundle(roots));
        var (leaf, intermediate) = Chain(Root("a stranger"));

        var found = anchors.RootsFor([leaf, intermediate]);

        Assert.Equal(5, found.Count);
        Assert.False(Verifies(leaf, intermediate, found));
    }

    [Fact]
    public void RootsFor_IssuerNameEncodedOtherwiseThanTheRootsSubject_StillVerifies()
    {
        // The root names itself in a PrintableString, its intermediate names the issuer in a UTF8String: the same name to
        // OpenSSL, which compares names canonically, but other bytes.
        var printable = new X500DistinguishedNameBuilder();
        printable.Add("2.5.4.3", "Legacy Root", UniversalTagNumber.PrintableString);
        var root = Root(printable.Build());
        var utf8 = new X500DistinguishedNameBuilder();
        utf8.Add("2.5.4.3", "Legacy Root", UniversalTagNumber.UTF8String);
        var (leaf, intermediate) = Chain(root, utf8.Build());
        Assert.False(intermediate.IssuerName.RawData.AsSpan().SequenceEqual(root.SubjectName.RawData));
        var anchors = TrustAnchors.Parse(Bundle([Root("another root"), root]));

        var found = anchors.RootsFor([leaf, intermediate]);

        Assert.Equal(2, found.Count);
        Assert.True(Verifies(leaf, intermediate, found));
    }

    [Fact]
    public void Parse_TrustedCertificateBlocksAndText_AreNotRoots()
    {
        var root = Root("plain root");
        var pem = "-----BEGIN TRUSTED CERTIFICATE-----\nAAAA\n-----END TRUSTED CERTIFICATE-----\nsome text\n" + root.ExportCertificatePem();

        var anchors = TrustAnchors.Parse(pem);

        Assert.Equal(1, anchors.Count);
    }

    [Theory]
    [InlineData("-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n", "base64")]
    [InlineData("-----BEGIN CERTIFICATE-----\nMIIBIjAN\n-----END CERTIFICATE-----\n", "certificate 1")]
    [InlineData("-----BEGIN CERTIFICATE-----\nMIIBIjAN\n", "no -----END CERTIFICATE----- line")]
    public void Parse_BlockThatIsNotACertificate_RefusesTheBundle(string pem, string message)
    {
        var refused = Assert.ThrowsAny<FormatException>(() => TrustAnchors.Parse(pem));

        Assert.Contains(message, refused.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Parse_DebianBundleOfThisMachine_DecodesEveryRoot()
    {
        var path = "/etc/ssl/certs/ca-certificates.crt";
        Assert.True(File.Exists(path), $"this test needs Debian's CA bundle at {path} (package ca-certificates)");
        var text = File.ReadAllText(path, Encoding.ASCII);

        var anchors = TrustAnchors.Parse(text);

        Assert.Equal(text.Split("-----BEGIN CERTIFICATE-----").Length - 1, anchors.Count);
        Assert.True(anchors.Count > 100);
        Assert.Equal(0, anchors.ParsedCount);
    }
}

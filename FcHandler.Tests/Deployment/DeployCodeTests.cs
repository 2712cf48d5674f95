using System.IO.Compression;
using System.Security.Cryptography;
using FcHandler.Tests.Infrastructure;

namespace FcHandler.Tests.Deployment;

/// <summary>
/// <c>deploy.ps1 -Code &lt;zip&gt; -DryRun</c> on small real zips made here: a bootstrap script and, as FcHandler, a tiny
/// static x86-64 program, with or without their executable bits, with or without a SHA256SUMS beside the zip. The dry
/// run checks the zip as a deployment would and fails when it would refuse it; nothing is ever built.
/// </summary>
public sealed class DeployCodeTests : IClassFixture<DeployScript>, IDisposable
{
    private const int Executable = 0b111_101_101; // 0755
    private const int Plain = 0b110_100_100; // 0644

    private readonly DeployScript _script;
    private readonly DirectoryInfo _downloads = Directory.CreateTempSubdirectory("fchandler-deploy-code-");

    public DeployCodeTests(DeployScript script) => _script = script;

    public void Dispose() => _downloads.Delete(recursive: true);

    [Fact]
    public void Code_GoodZipWithMatchingChecksum_PassesAndThePlanDeploysThatZip()
    {
        var zip = Zip(("bootstrap", Bootstrap, Executable), ("FcHandler", StaticElf(), Executable));
        var sha256 = WriteSha256Sums(zip);

        var (exitCode, output) = _script.Run("-Code", zip, "-DryRun", "-Domain", "api.example.com");

        Assert.True(exitCode == 0, output);
        Assert.Contains($"checksum: SHA-256 {sha256} matches SHA256SUMS", output, StringComparison.Ordinal);
        Assert.Contains("glibc: none needed (a static binary)", output, StringComparison.Ordinal);
        Assert.Contains($"DEPLOY_CODE={zip}", output, StringComparison.Ordinal);
        Assert.Contains($"Dry run: nothing was deployed; it would deploy {zip}", output, StringComparison.Ordinal);
        AssertNothingWasBuilt(output);
    }

    [Fact]
    public void Deploy_AVpcForTheLimitsStore_ReachesTheTemplateAndTheStoreStaysSecret()
    {
        var zip = Zip(("bootstrap", Bootstrap, Executable), ("FcHandler", StaticElf(), Executable));
        var variables = new Dictionary<string, string>
        {
            ["DEPLOY_VPC_ID"] = "vpc-t4n1",
            ["DEPLOY_VSWITCH_ID"] = "vsw-a, vsw-b",
            ["DEPLOY_SECURITY_GROUP_ID"] = "sg-t4n9",
            ["LIMITS_STORE"] = "redis://:tair-password-never-printed@r-1.redis.rds.aliyuncs.com:6379/0",
        };

        var (exitCode, output) = _script.RunWith(variables, "-Code", zip, "-DryRun", "-Domain", "api.example.com");

        Assert.True(exitCode == 0, output);
        Assert.Contains("vpc: vpc-t4n1 vsw-a, vsw-b sg-t4n9", output, StringComparison.Ordinal);
        Assert.Contains("""DEPLOY_VSWITCH_IDS=["vsw-a","vsw-b"]""", output, StringComparison.Ordinal);
        Assert.Contains("LIMITS_STORE=set", output, StringComparison.Ordinal);
        Assert.DoesNotContain("tair-password", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_VpcPartlySet_StopsNamingWhatIsMissing()
    {
        var zip = Zip(("bootstrap", Bootstrap, Executable), ("FcHandler", StaticElf(), Executable));

        var (_, output) = _script.RunWith(new Dictionary<string, string> { ["DEPLOY_VPC_ID"] = "vpc-t4n1" }, "-Code", zip, "-DryRun", "-Domain", "api.example.com");

        Assert.Contains("would stop here: set all of DEPLOY_VPC_ID, DEPLOY_VSWITCH_ID, DEPLOY_SECURITY_GROUP_ID", output, StringComparison.Ordinal);
        Assert.Contains("only DEPLOY_VPC_ID is set", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_NoVpc_SendsNoSwitches()
    {
        var zip = Zip(("bootstrap", Bootstrap, Executable), ("FcHandler", StaticElf(), Executable));

        var (exitCode, output) = _script.Run("-Code", zip, "-DryRun", "-Domain", "api.example.com");

        Assert.True(exitCode == 0, output);
        Assert.Contains("vpc: none", output, StringComparison.Ordinal);
        Assert.Contains("DEPLOY_VSWITCH_IDS=[]", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_HttpsOnly_DeploysTheDomainHttpsOnlyWithTheFcappUrlOff()
    {
        var zip = GoodZip();

        var (exitCode, output) = _script.Run("-Code", zip, "-DryRun", "-Domain", "api.example.com", "-HttpsOnly");

        Assert.True(exitCode == 0, output);
        Assert.Contains("DEPLOY_DOMAIN_PROTOCOL=HTTPS DEPLOY_DISABLE_URL_INTERNET=true", output, StringComparison.Ordinal);
        Assert.Contains("access: HTTPS only on the custom domain, the fcapp.run URL off (-HttpsOnly)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_WithoutHttpsOnly_KeepsHttpAndTheFcappUrlWhateverTheShellHasLeftSet()
    {
        var zip = GoodZip();
        var leftOver = new Dictionary<string, string> { ["DEPLOY_DOMAIN_PROTOCOL"] = "HTTPS", ["DEPLOY_DISABLE_URL_INTERNET"] = "true" };

        var (exitCode, output) = _script.RunWith(leftOver, "-Code", zip, "-DryRun", "-Domain", "api.example.com");

        Assert.True(exitCode == 0, output);
        Assert.Contains("DEPLOY_DOMAIN_PROTOCOL=HTTP,HTTPS DEPLOY_DISABLE_URL_INTERNET=false", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("true", "DEPLOY_DOMAIN_PROTOCOL=HTTPS DEPLOY_DISABLE_URL_INTERNET=true")]
    [InlineData("1", "DEPLOY_DOMAIN_PROTOCOL=HTTPS DEPLOY_DISABLE_URL_INTERNET=true")]
    [InlineData("false", "DEPLOY_DOMAIN_PROTOCOL=HTTP,HTTPS DEPLOY_DISABLE_URL_INTERNET=false")]
    public void Deploy_HttpsOnlyFromTheEnvironment_IsTheSwitch(string value, string expected)
    {
        var zip = GoodZip();

        var (exitCode, output) = _script.RunWith(new Dictionary<string, string> { ["DEPLOY_HTTPS_ONLY"] = value },
            "-Code", zip, "-DryRun", "-Domain", "api.example.com");

        Assert.True(exitCode == 0, output);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_HttpsOnlyFromTheEnvironmentNotABoolean_StopsNamingTheValue()
    {
        var zip = GoodZip();

        var (exitCode, output) = _script.RunWith(new Dictionary<string, string> { ["DEPLOY_HTTPS_ONLY"] = "yes please" },
            "-Code", zip, "-DryRun", "-Domain", "api.example.com");

        Assert.Equal(1, exitCode);
        Assert.Contains("ERROR: DEPLOY_HTTPS_ONLY='yes please' is not true or false", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_CachedFc3OlderThan0114_StopsNamingTheCacheToRemove()
    {
        var zip = GoodZip();
        var home = CachedFc3("0.1.13");

        var (_, output) = _script.RunWith(new Dictionary<string, string> { ["serverless_devs_config_home"] = home },
            "-Code", zip, "-DryRun", "-Domain", "api.example.com");

        var cache = Path.Combine(home, ".s", "components", "devsapp.cn", "v3", "fc3");
        Assert.Contains("would stop here: fc3 0.1.13 is cached, but template.yml needs fc3 0.1.14 or newer", output, StringComparison.Ordinal);
        Assert.Contains($"Remove {cache} (or all cached components: s clean --component)", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.1.14")]
    [InlineData("0.1.22")]
    public void Deploy_CachedFc3FromTheFirstThatReadsLogBeginRule_Passes(string version)
    {
        var zip = GoodZip();

        var (exitCode, output) = _script.RunWith(new Dictionary<string, string> { ["serverless_devs_config_home"] = CachedFc3(version) },
            "-Code", zip, "-DryRun", "-Domain", "api.example.com");

        Assert.True(exitCode == 0, output);
        Assert.Contains($"fc3: {version} (cached in", output, StringComparison.Ordinal);
        Assert.DoesNotContain("would stop here: fc3", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_NoCachedFc3_SaysSDownloadsTheNewest()
    {
        var zip = GoodZip();
        var home = Directory.CreateDirectory(Path.Combine(_downloads.FullName, "empty-home")).FullName;

        var (exitCode, output) = _script.RunWith(new Dictionary<string, string> { ["serverless_devs_config_home"] = home },
            "-Code", zip, "-DryRun", "-Domain", "api.example.com");

        Assert.True(exitCode == 0, output);
        Assert.Contains("fc3: no cached component in", output, StringComparison.Ordinal);
        Assert.Contains("s downloads the newest one on this deployment", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_FromAnotherFolder_PassesTheCertificateAsFullPathsFromThatFolder()
    {
        // fc3-domain reads certConfig paths relative to the directory s runs in; deploy.ps1 runs s in the repository.
        var zip = GoodZip();
        var folder = Directory.CreateDirectory(Path.Combine(_downloads.FullName, "elsewhere"));
        Directory.CreateDirectory(Path.Combine(folder.FullName, "tls"));
        File.WriteAllText(Path.Combine(folder.FullName, "tls", "chain.pem"), "not read in a dry run");
        File.WriteAllText(Path.Combine(folder.FullName, "tls", "key.pem"), "not read in a dry run");
        var variables = new Dictionary<string, string> { ["DEPLOY_CERT_FILE"] = "tls/chain.pem", ["DEPLOY_KEY_FILE"] = "./tls/key.pem" };

        var (exitCode, output) = _script.RunIn(folder.FullName, variables, "-Code", zip, "-DryRun", "-Domain", "api.example.com");

        Assert.True(exitCode == 0, output);
        Assert.Contains($"DEPLOY_CERT_FILE={folder.FullName}/tls/chain.pem DEPLOY_KEY_FILE={folder.FullName}/tls/key.pem", output, StringComparison.Ordinal);
        Assert.DoesNotContain("certificate file not found", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Deploy_CertificateNotGiven_IsTheRepositorysCertsFolderByItsFullPath()
    {
        var zip = GoodZip();

        var (_, output) = _script.RunIn(_downloads.FullName, new Dictionary<string, string>(), "-Code", zip, "-DryRun", "-Domain", "api.example.com");

        Assert.Contains($"DEPLOY_CERT_FILE={Fixtures.RepositoryRoot}/certs/fullchain.pem DEPLOY_KEY_FILE={Fixtures.RepositoryRoot}/certs/privkey.pem", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Code_ZipWithoutBootstrap_IsRefusedNamingIt()
    {
        var zip = Zip(("FcHandler", StaticElf(), Executable));

        var (exitCode, output) = _script.Run("-Code", zip, "-DryRun");

        Assert.Equal(1, exitCode);
        Assert.Contains($"ERROR: bootstrap is not at the root of {zip}", output, StringComparison.Ordinal);
        AssertNothingWasBuilt(output);
    }

    [Fact]
    public void Code_BinaryWithoutExecutableBits_IsRefusedNamingIt()
    {
        var zip = Zip(("bootstrap", Bootstrap, Executable), ("FcHandler", StaticElf(), Plain));

        var (exitCode, output) = _script.Run("-Code", zip, "-DryRun");

        Assert.Equal(1, exitCode);
        Assert.Contains($"ERROR: FcHandler is not executable in {zip}", output, StringComparison.Ordinal);
        AssertNothingWasBuilt(output);
    }

    [Fact]
    public void Code_ChecksumMismatch_IsRefusedNamingBothSums()
    {
        var zip = Zip(("bootstrap", Bootstrap, Executable), ("FcHandler", StaticElf(), Executable));
        var actual = WriteSha256Sums(zip);
        var listed = new string('0', 64);
        File.WriteAllText(Path.Combine(_downloads.FullName, "SHA256SUMS"), $"{listed}  {Path.GetFileName(zip)}\n");

        var (exitCode, output) = _script.Run("-Code", zip, "-DryRun");

        Assert.Equal(1, exitCode);
        Assert.Contains($"ERROR: checksum mismatch: {Path.GetFileName(zip)} has SHA-256 {actual} but", output, StringComparison.Ordinal);
        Assert.Contains($"says {listed}", output, StringComparison.Ordinal);
        AssertNothingWasBuilt(output);
    }

    [Fact]
    public void Code_BinaryBuiltForAnotherSystem_IsRefused()
    {
        byte[] machO = [0xCF, 0xFA, 0xED, 0xFE, 0x07, 0x00, 0x00, 0x01, .. new byte[32]]; // what a macOS publish makes
        var zip = Zip(("bootstrap", Bootstrap, Executable), ("FcHandler", machO, Executable));

        var (exitCode, output) = _script.Run("-Code", zip, "-DryRun");

        Assert.Equal(1, exitCode);
        Assert.Contains($"ERROR: FcHandler in {zip} is not a Linux x64 program", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Code_BinaryNeedingANewerGlibcThanDebian11_IsRefused()
    {
        // /bin/true of this Debian 12 machine (and of GitHub's Ubuntu runners) asks for GLIBC_2.34.
        Assert.True(File.Exists("/usr/bin/objdump"), "this test needs objdump (package binutils), which the glibc check uses");
        var zip = Zip(("bootstrap", Bootstrap, Executable), ("FcHandler", File.ReadAllBytes("/bin/true"), Executable));

        var (exitCode, output) = _script.Run("-Code", zip, "-DryRun");

        Assert.Equal(1, exitCode);
        Assert.Matches(@"ERROR: the binary needs GLIBC_2\.(3[2-9]|[4-9][0-9]); it would not start on Debian 11", output);
    }

    [Theory]
    [InlineData("-Build", "Aot")]
    [InlineData("-PackageOnly")]
    public void Code_WithAnOptionThatBuilds_IsRefusedAsIncompatible(params string[] option)
    {
        var zip = Zip(("bootstrap", Bootstrap, Executable), ("FcHandler", StaticElf(), Executable));

        var (exitCode, output) = _script.Run(["-Code", zip, .. option, "-DryRun"]);

        Assert.Equal(1, exitCode);
        Assert.Contains("ERROR: -Code deploys a zip that is already built, so it cannot be combined with -Build or -PackageOnly", output, StringComparison.Ordinal);
        AssertNothingWasBuilt(output);
    }

    private string GoodZip() => Zip(("bootstrap", Bootstrap, Executable), ("FcHandler", StaticElf(), Executable));

    /// <summary>A Serverless Devs home whose cached fc3 is this version, as s leaves it after downloading one.</summary>
    private string CachedFc3(string version)
    {
        var home = Path.Combine(_downloads.FullName, $"home-{version}");
        var cache = Directory.CreateDirectory(Path.Combine(home, ".s", "components", "devsapp.cn", "v3", "fc3"));
        File.WriteAllText(Path.Combine(cache.FullName, ".s.lock"), $$"""{"version":"{{version}}","lastUpdateCheck":1765150000000}""");
        return home;
    }

    private static byte[] Bootstrap => "#!/bin/bash\nexec \"$(dirname \"$0\")/FcHandler\" \"$@\"\n"u8.ToArray();

    private void AssertNothingWasBuilt(string output)
    {
        Assert.False(File.Exists(_script.DotnetCallLog), $"deploy.ps1 -Code called dotnet: {(File.Exists(_script.DotnetCallLog) ? File.ReadAllText(_script.DotnetCallLog) : "")}");
        Assert.DoesNotContain("Publishing", output, StringComparison.Ordinal);
    }

    private string Zip(params (string Name, byte[] Content, int Mode)[] entries)
    {
        var path = Path.Combine(_downloads.FullName, "FcHandler-linux-x64-aot.zip");
        using var archive = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, content, mode) in entries)
        {
            var entry = archive.CreateEntry(name);
            entry.ExternalAttributes = (0b1000 << 12 | mode) << 16; // a regular file with these permission bits
            using var stream = entry.Open();
            stream.Write(content);
        }

        return path;
    }

    private string WriteSha256Sums(string zip)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(zip)));
        File.WriteAllText(Path.Combine(_downloads.FullName, "SHA256SUMS"), $"{sha256}  {Path.GetFileName(zip)}\n");
        return sha256;
    }

    /// <summary>A whole x86-64 Linux program that exits 0: an ELF header, one loadable segment, three instructions.</summary>
    private static byte[] StaticElf()
    {
        byte[] code = [0x31, 0xFF, 0xB8, 0x3C, 0x00, 0x00, 0x00, 0x0F, 0x05]; // xor edi, edi; mov eax, 60 (exit); syscall
        const int headerSize = 64, segmentHeaderSize = 56;
        const ulong load = 0x400000;
        var size = headerSize + segmentHeaderSize + code.Length;
        using var elf = new MemoryStream();
        using var writer = new BinaryWriter(elf);
        writer.Write([0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // 64-bit, little-endian
        writer.Write((ushort)2); // executable
        writer.Write((ushort)0x3E); // x86-64
        writer.Write(1u);
        writer.Write(load + headerSize + segmentHeaderSize); // entry point
        writer.Write((ulong)headerSize); // program headers right after this one
        writer.Write(0UL); // no section headers
        writer.Write(0u);
        writer.Write((ushort)headerSize);
        writer.Write((ushort)segmentHeaderSize);
        writer.Write((ushort)1);
        writer.Write((ushort)0);
        writer.Write((ushort)0);
        writer.Write((ushort)0);
        writer.Write(1u); // PT_LOAD
        writer.Write(5u); // read, execute
        writer.Write(0UL);
        writer.Write(load);
        writer.Write(load);
        writer.Write((ulong)size);
        writer.Write((ulong)size);
        writer.Write(0x1000UL);
        writer.Write(code);
        writer.Flush();
        return elf.ToArray();
    }
}

using System.IO.Compression;
using System.Security.Cryptography;

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

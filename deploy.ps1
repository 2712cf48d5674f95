#Requires -Version 7.0
<#
.SYNOPSIS
    Builds, packages, verifies and deploys the proxy to Alibaba Cloud Function Compute (FC 3.0), or deploys a zip
    you already have (-Code).

.DESCRIPTION
    1. Checks prerequisites (dotnet; for a deployment also the Serverless Devs CLI `s`, credentials,
       the custom domain and its certificate) and says how to fix what is missing.
    2. Builds FcHandler for linux-x64:
         Aot  NativeAOT, linked against a Debian 11 (glibc 2.31) sysroot made by build/make-sysroot.sh,
              so the binary starts on FC's custom.debian11 image. Linux x64 with clang only.
         Jit  self-contained, trimmed, ReadyToRun: the fallback where NativeAOT cannot be built
              (Windows, macOS, no clang); it also runs on Debian 11.
         Auto Aot where it can be built, else Jit.
    3. Packages dist/FcHandler-linux-x64-<aot|jit>.zip with an executable `bootstrap` at its root.
    4. Verifies the zip (bootstrap and binary executable, AOT zip under 10 MB, no glibc symbol above 2.31,
       and on Linux x64 a local start that answers GET /healthz).
    5. Runs `s deploy -t template.yml -y` from the repository, with the certificate paths made absolute, after checking
       that the cached fc3 component is 0.1.14 or newer (template.yml's `logConfig: auto|logBeginRule=None` needs it).
       For a limits store in a VPC (Tair), set DEPLOY_VPC_ID, DEPLOY_VSWITCH_ID and DEPLOY_SECURITY_GROUP_ID in the
       environment, and LIMITS_STORE, a secret like OPENAI_API_KEY and OPENAI_API_KEYS (docs/limits.md).
    With -Code <zip> steps 2 and 3 are skipped (no .NET SDK needed): the zip, a release download or your own
    build, gets the same checks as step 4, and its SHA-256 must match a SHA256SUMS file beside it, if there is one.
    It stops at the first failure and never prints a secret (only whether each one is set).

.PARAMETER Region
    FC region, e.g. ap-southeast-1 (Singapore, the default), ap-northeast-1 (Tokyo), us-west-1, eu-central-1.
    OpenAI refuses some regions, Hong Kong (cn-hongkong) and mainland China among them.
.PARAMETER Domain
    Your custom domain, e.g. api.example.com (CNAME to <account-id>.<region>.fc.aliyuncs.com).
.PARAMETER Build
    Auto (default), Aot or Jit.
.PARAMETER PackageOnly
    Build, package and verify; do not deploy.
.PARAMETER Code
    Deploy this zip instead of building one. Not with -Build or -PackageOnly.
.PARAMETER HttpsOnly
    The safer setting: the custom domain answers HTTPS only, and the HTTP trigger's fcapp.run URL is turned off, so
    tokens and keys never cross plain HTTP or FC's default address. Without it (the default) the domain serves
    HTTP and HTTPS and the fcapp.run URL stays on. Also DEPLOY_HTTPS_ONLY=true. Give it on every deployment: one
    without it turns HTTP and the URL back on.
.PARAMETER DryRun
    Print what would be done, change nothing. With -Code the zip is still checked, and a zip that would be
    refused fails the dry run.

.EXAMPLE
    ./deploy.ps1 -Region ap-southeast-1 -Domain api.example.com
.EXAMPLE
    ./deploy.ps1 -Region ap-southeast-1 -Domain api.example.com -HttpsOnly
.EXAMPLE
    ./deploy.ps1 -PackageOnly -Build Aot
.EXAMPLE
    ./deploy.ps1 -Code ~/Downloads/FcHandler-linux-x64-aot.zip -Region ap-southeast-1 -Domain api.example.com
#>
[CmdletBinding()]
param(
    [string] $Region = $(if ($env:DEPLOY_REGION) { $env:DEPLOY_REGION } else { 'ap-southeast-1' }),
    [string] $Domain = $env:DEPLOY_DOMAIN,
    [ValidateSet('Auto', 'Aot', 'Jit')]
    [string] $Build = 'Auto',
    [switch] $PackageOnly,
    [string] $Code,
    [switch] $HttpsOnly,
    [switch] $DryRun
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$RepoRoot = $PSScriptRoot
$Project = if ($env:FCHANDLER_PROJECT) { $env:FCHANDLER_PROJECT } else { Join-Path $RepoRoot 'FcHandler/FcHandler.csproj' }
$Template = Join-Path $RepoRoot 'template.yml'
$SysRoot = if ($env:FCHANDLER_SYSROOT) { $env:FCHANDLER_SYSROOT } else { Join-Path $RepoRoot '.cache/sysroot-bullseye' }
$DistDir = Join-Path $RepoRoot 'dist'
$AotZipLimitBytes = 10MB
$MaxGlibc = [version]'2.31'
# The env var names template.yml reads. Secrets are reported only as set / not set.
$SettingNames = @('UPSTREAM_BASE_URL', 'GENERATION_TIMEOUT', 'DEFAULT_TIMEOUT', 'CORS_ALLOWED_ORIGINS',
    'PROXY_REVOKED_TOKEN_IDS', 'MAX_REQUEST_BODY_MB', 'PROXY_FORWARD_HEADERS', 'TEMP_STORAGE_MB',
    'LIMITS_DEFAULT', 'LIMITS_BY_SUBJECT', 'LIMITS_STORE_FAILURE')
# LIMITS_STORE holds the store's password.
$SecretNames = @('OPENAI_API_KEY', 'OPENAI_API_KEYS', 'PROXY_ACCESS_TOKENS', 'PROXY_TOKEN_SECRET', 'LIMITS_STORE')
# template.yml's `logConfig: auto|logBeginRule=None` is read by fc3 0.1.14 and newer (parseAutoConfig came in with
# devsapp/fc3 commit 35e097b, "Version: 0.1.14" in its publish.yaml); older fc3 deploys DefaultRegex instead.
$MinFc3 = [version]'0.1.14'
# The function's VPC (for a limits store in it): all three or none.
$VpcNames = @('DEPLOY_VPC_ID', 'DEPLOY_VSWITCH_ID', 'DEPLOY_SECURITY_GROUP_ID')

function Write-Step([string] $Message) { Write-Host "==> $Message" -ForegroundColor Cyan }
function Write-Info([string] $Message) { Write-Host "    $Message" }
function Stop-WithError([string] $Message) {
    Write-Host "ERROR: $Message" -ForegroundColor Red
    exit 1
}
# In a dry run a failed check is reported and the plan goes on, so the whole plan is visible.
function Confirm-Prerequisite([bool] $Ok, [string] $Message) {
    if ($Ok) { return }
    if ($DryRun) { Write-Host "    [dry-run] would stop here: $Message" -ForegroundColor Yellow; return }
    Stop-WithError $Message
}

# Runs a native command (argument array, no shell), echoing it; stops on a non-zero exit code.
function Invoke-Native([string] $File, [string[]] $Arguments, [switch] $AlwaysRun) {
    Write-Info ("$ $File " + ($Arguments -join ' '))
    if ($DryRun -and -not $AlwaysRun) { return }
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { Stop-WithError "'$File' exited with code $LASTEXITCODE" }
}

function Test-Command([string] $Name) { return [bool](Get-Command $Name -CommandType Application -ErrorAction SilentlyContinue) }

$IsLinuxX64 = $IsLinux -and [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture -eq 'X64'
function Get-ClangName {
    foreach ($name in 'clang-14', 'clang') { if (Test-Command $name) { return $name } }
    return $null
}
function Test-IsRoot { return $IsLinux -and ((& id -u) -eq '0') }

# The fc3 component `s deploy` will load: Serverless Devs keeps it in <home>/.s/components/devsapp.cn/v3/fc3 with its
# version in .s.lock, and updates that copy only in the background after a run (Serverless-Devs src/command/custom,
# @serverless-devs/load-component), so an old copy deploys at least once more. <home> is serverless_devs_config_home
# or the user's home; ~/.s/config/s.json may move the whole folder (its "workspace"), as @serverless-devs/utils reads it.
function Get-Fc3Cache {
    $userHome = if ($env:serverless_devs_config_home) { $env:serverless_devs_config_home } else { [Environment]::GetFolderPath('UserProfile') }
    $sHome = Join-Path $userHome '.s'
    $sJson = Join-Path $sHome 'config/s.json'
    if (Test-Path -LiteralPath $sJson -PathType Leaf) {
        try {
            $workspace = (Get-Content -Raw -LiteralPath $sJson | ConvertFrom-Json).workspace
            if ($workspace) { $sHome = ([string]$workspace) -replace '~', $userHome }
        } catch { Write-Info "fc3: $sJson is not JSON; assuming $sHome" }
    }
    $dir = Join-Path $sHome 'components/devsapp.cn/v3/fc3'
    $lock = Join-Path $dir '.s.lock'
    $version = $null
    if (Test-Path -LiteralPath $lock -PathType Leaf) {
        try { $version = [version]((Get-Content -Raw -LiteralPath $lock | ConvertFrom-Json).version) } catch { $version = $null }
    }
    return [pscustomobject]@{ Dir = $dir; Lock = $lock; Version = $version }
}

# A path the deployer gave is taken from the current directory, as any command takes it; our default is the repository's.
function Resolve-DeployPath([string] $Given, [string] $Default) {
    if ($Given) { return $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Given) }
    return Join-Path $RepoRoot $Default
}

# Unix file modes are carried in the zip's external attributes; FC needs bootstrap and the binary executable.
function New-FcZip([string] $SourceDir, [string] $ZipPath, [string[]] $ExecutableNames) {
    Add-Type -AssemblyName System.IO.Compression
    if (Test-Path $ZipPath) { Remove-Item -Force $ZipPath }
    $null = New-Item -ItemType Directory -Force -Path (Split-Path $ZipPath)
    $stamp = [DateTimeOffset]::new(2020, 1, 1, 0, 0, 0, [TimeSpan]::Zero)  # fixed, so equal inputs give equal zips
    $stream = [System.IO.File]::Open($ZipPath, [System.IO.FileMode]::CreateNew)
    try {
        $archive = [System.IO.Compression.ZipArchive]::new($stream, [System.IO.Compression.ZipArchiveMode]::Create)
        try {
            $files = Get-ChildItem -Path $SourceDir -Recurse -File | Sort-Object FullName -Culture ([cultureinfo]::InvariantCulture)
            foreach ($file in $files) {
                $name = [System.IO.Path]::GetRelativePath($SourceDir, $file.FullName).Replace('\', '/')
                $entry = $archive.CreateEntry($name, [System.IO.Compression.CompressionLevel]::SmallestSize)
                $mode = if ($ExecutableNames -contains $name -or $name -like '*.so' -or $name -like '*.so.*') { 0x81ED } else { 0x81A4 }  # 0100755 / 0100644
                $entry.ExternalAttributes = $mode -shl 16
                $entry.LastWriteTime = $stamp
                $out = $entry.Open()
                try { $in = [System.IO.File]::OpenRead($file.FullName); try { $in.CopyTo($out) } finally { $in.Dispose() } }
                finally { $out.Dispose() }
            }
        } finally { $archive.Dispose() }
    } finally { $stream.Dispose() }
    Set-UnixMadeBy $ZipPath
}

# ZipArchive records the creating OS in "version made by"; unzip tools apply Unix modes only when it says Unix (3).
# On Windows it says MS-DOS, so mark every central-directory entry as made on Unix.
function Set-UnixMadeBy([string] $ZipPath) {
    $bytes = [System.IO.File]::ReadAllBytes($ZipPath)
    $eocd = -1
    for ($i = $bytes.Length - 22; $i -ge 0; $i--) {
        if ([BitConverter]::ToUInt32($bytes, $i) -eq 0x06054b50) { $eocd = $i; break }
    }
    if ($eocd -lt 0) { Stop-WithError "not a zip file: $ZipPath" }
    $count = [BitConverter]::ToUInt16($bytes, $eocd + 10)
    $pos = [int][BitConverter]::ToUInt32($bytes, $eocd + 16)
    for ($n = 0; $n -lt $count; $n++) {
        if ([BitConverter]::ToUInt32($bytes, $pos) -ne 0x02014b50) { Stop-WithError "bad central directory in $ZipPath" }
        $bytes[$pos + 5] = 3
        $pos += 46 + [BitConverter]::ToUInt16($bytes, $pos + 28) + [BitConverter]::ToUInt16($bytes, $pos + 30) + [BitConverter]::ToUInt16($bytes, $pos + 32)
    }
    [System.IO.File]::WriteAllBytes($ZipPath, $bytes)
}

# The checks every zip gets before FC sees it: bootstrap and the binary at the zip's root and executable (FC starts
# ./bootstrap, which execs ./FcHandler), the binary built for Linux x64, the AOT zip within its size budget, no glibc
# symbol above Debian 11's where objdump can tell, and on Linux x64 a start of the unpacked zip that answers
# GET /healthz (not in a dry run, which starts nothing).
function Test-FcZip([string] $ZipPath) {
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    try { $archive = [System.IO.Compression.ZipFile]::OpenRead($ZipPath) }
    catch { Stop-WithError "$ZipPath is not a zip file: $($_.Exception.GetBaseException().Message)" }
    try {
        foreach ($name in 'bootstrap', 'FcHandler') {
            $entry = $archive.GetEntry($name)
            if ($null -eq $entry) { Stop-WithError "$name is not at the root of $ZipPath" }
            if ((($entry.ExternalAttributes -shr 16) -band 0x49) -ne 0x49) { Stop-WithError "$name is not executable in $ZipPath" }
        }
        # ELF magic, 64-bit, machine x86-64: a build for Windows or macOS would not start on FC.
        $head = [byte[]]::new(20)
        $stream = $archive.GetEntry('FcHandler').Open()
        try { $read = $stream.ReadAtLeast($head, $head.Length, $false) } finally { $stream.Dispose() }
        if ($read -lt $head.Length -or [BitConverter]::ToUInt32($head, 0) -ne 0x464C457F -or $head[4] -ne 2 -or [BitConverter]::ToUInt16($head, 18) -ne 0x3E) {
            Stop-WithError "FcHandler in $ZipPath is not a Linux x64 program: publish it with -r linux-x64"
        }
        # A self-contained (JIT) build carries the runtime beside the binary; a NativeAOT build is the binary alone.
        $zipKind = if ($null -ne $archive.GetEntry('libcoreclr.so')) { 'jit' } else { 'aot' }
    } finally { $archive.Dispose() }
    $size = (Get-Item -LiteralPath $ZipPath).Length
    Write-Info ('zip size: {0:N0} bytes ({1:N2} MB), {2}' -f $size, ($size / 1MB), $(if ($zipKind -eq 'aot') { 'NativeAOT' } else { 'self-contained JIT' }))
    if ($zipKind -eq 'aot' -and $size -ge $AotZipLimitBytes) { Stop-WithError "the AOT zip is $size bytes, over the 10 MB budget" }

    $unpacked = [System.IO.Directory]::CreateTempSubdirectory('fchandler-verify-').FullName
    try {
        [System.IO.Compression.ZipFile]::ExtractToDirectory($ZipPath, $unpacked)
        Test-Glibc (Join-Path $unpacked 'FcHandler')
        if ($IsLinuxX64) {
            if ($DryRun) { Write-Info '[dry-run] would start the unpacked zip and wait for GET /healthz' }
            else { Test-Healthz $unpacked }
        }
    } finally { Remove-Item -Recurse -Force -LiteralPath $unpacked }
}

# The newest glibc symbol version the binary asks for must be one Debian 11 has; objdump tells, where it is installed.
function Test-Glibc([string] $Binary) {
    if (-not (Test-Command 'objdump')) { Write-Info 'glibc: not checked (objdump, from binutils, is not installed here)'; return }
    $dump = & objdump -T $Binary 2>&1 | Out-String
    if ($LASTEXITCODE -ne 0) {
        if ($dump -match 'not a dynamic object') { Write-Info 'glibc: none needed (a static binary)'; return }
        Stop-WithError "objdump cannot read the binary: $($dump.Trim())"
    }
    $max = [regex]::Matches($dump, 'GLIBC_([0-9.]+)') | ForEach-Object { [version]$_.Groups[1].Value } | Sort-Object | Select-Object -Last 1
    Write-Info "highest glibc symbol version: $max (FC custom.debian11 has $MaxGlibc)"
    if ($max -gt $MaxGlibc) { Stop-WithError "the binary needs GLIBC_$max; it would not start on Debian 11" }
}

# A SHA256SUMS file beside the zip (as a release has) must list it with the zip's own SHA-256.
function Confirm-Checksum([string] $ZipPath) {
    $sums = Join-Path (Split-Path $ZipPath) 'SHA256SUMS'
    if (-not (Test-Path -LiteralPath $sums -PathType Leaf)) { Write-Info 'checksum: no SHA256SUMS beside the zip, not checked'; return }
    $name = Split-Path $ZipPath -Leaf
    $expected = Get-Content -LiteralPath $sums | ForEach-Object {
        if ($_ -match '^([0-9a-fA-F]{64}) [ *](.+)$' -and [System.IO.Path]::GetFileName($Matches[2].Trim()) -eq $name) { $Matches[1].ToLowerInvariant() }
    } | Select-Object -First 1
    if (-not $expected) { Stop-WithError "$sums has no line for $name, so the zip cannot be checked against it: take both from the same release" }
    $actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $ZipPath).Hash.ToLowerInvariant()
    if ($actual -ne $expected) {
        Stop-WithError "checksum mismatch: $name has SHA-256 $actual but $sums says $expected; download the zip again"
    }
    Write-Info "checksum: SHA-256 $actual matches SHA256SUMS"
}

# Starts the unpacked zip's entry point on a free loopback port and waits for GET /healthz.
function Test-Healthz([string] $CodeDir) {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
    $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh', @((Join-Path $CodeDir 'bootstrap')))
    $psi.WorkingDirectory = $CodeDir
    $psi.UseShellExecute = $false
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    foreach ($n in @('FC_FUNCTION_NAME', 'LISTEN_HOST', 'FC_SERVER_PORT')) { $null = $psi.Environment.Remove($n) }
    $psi.Environment['FC_CUSTOM_LISTEN_PORT'] = "$port"
    $proc = [System.Diagnostics.Process]::Start($psi)
    $healthy = $false
    try {
        $client = [System.Net.Http.HttpClient]::new()
        $client.Timeout = [TimeSpan]::FromSeconds(2)
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (-not $healthy -and [DateTime]::UtcNow -lt $deadline -and -not $proc.HasExited) {
            try { $healthy = $client.GetAsync("http://127.0.0.1:$port/healthz").GetAwaiter().GetResult().StatusCode -eq 200 }
            catch { Start-Sleep -Milliseconds 100 }
        }
    } finally {
        if (-not $proc.HasExited) { $proc.Kill($true); $proc.WaitForExit() }
    }
    if (-not $healthy) { Stop-WithError "the packaged app did not answer GET /healthz on 127.0.0.1:$port" }
    Write-Info "smoke test: GET /healthz answered 200 on 127.0.0.1:$port"
}

# DEPLOY_HTTPS_ONLY: the environment's way to say -HttpsOnly. Anything but true/false (or 1/0) stops here.
if (-not $PSBoundParameters.ContainsKey('HttpsOnly') -and $env:DEPLOY_HTTPS_ONLY) {
    switch ($env:DEPLOY_HTTPS_ONLY.Trim().ToLowerInvariant()) {
        { $_ -in 'true', '1' } { $HttpsOnly = [switch]$true }
        { $_ -in 'false', '0' } { $HttpsOnly = [switch]$false }
        default { Stop-WithError "DEPLOY_HTTPS_ONLY='$($env:DEPLOY_HTTPS_ONLY)' is not true or false" }
    }
}

# -Code: a zip that is already built; none of the build's options apply.
if ($PSBoundParameters.ContainsKey('Code')) {
    if ($PSBoundParameters.ContainsKey('Build') -or $PackageOnly) {
        Stop-WithError '-Code deploys a zip that is already built, so it cannot be combined with -Build or -PackageOnly, which build one'
    }
    if (-not $Code) { Stop-WithError '-Code needs the path of a zip, such as ./FcHandler-linux-x64-aot.zip' }
    $Code = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Code)
    if (-not (Test-Path -LiteralPath $Code -PathType Leaf)) { Stop-WithError "-Code: no such file: $Code" }
    # fc3 uploads a code path ending in .zip as it is, and zips anything else again (_assertNeedZip).
    if (-not $Code.EndsWith('.zip', [StringComparison]::Ordinal)) { Stop-WithError "-Code takes a file whose name ends in .zip: $Code" }
}

# ---------------------------------------------------------------------------------------------- checks
Write-Step 'Checking prerequisites'
if ($Code) {
    Write-Info "code: $Code (-Code builds nothing, so no .NET SDK is needed)"
} else {
    Confirm-Prerequisite (Test-Command 'dotnet') `
        'dotnet not found. Install the .NET 10 SDK: https://dotnet.microsoft.com/download/dotnet/10.0'
    if (Test-Command 'dotnet') {
        $sdk = (& dotnet --version 2>$null) -join ''
        Write-Info "dotnet SDK $sdk"
        Confirm-Prerequisite ($sdk -match '^(\d+)\.' -and [int]$Matches[1] -ge 10) `
            "the .NET 10 SDK or newer is needed (found '$sdk'): https://dotnet.microsoft.com/download/dotnet/10.0"
    }
    Confirm-Prerequisite (Test-Path $Project) "project not found: $Project"

    $Kind = $Build.ToLowerInvariant()
    $clang = Get-ClangName
    $aotPossible = $IsLinuxX64 -and $null -ne $clang
    if ($Build -eq 'Auto') {
        $Kind = if ($aotPossible) { 'aot' } else { 'jit' }
        Write-Info "build: Auto -> $Kind$(if (-not $aotPossible) { ' (NativeAOT needs Linux x64 and clang)' })"
    }
    if ($Kind -eq 'aot') {
        Confirm-Prerequisite $IsLinuxX64 'NativeAOT for linux-x64 is built on Linux x64 only; use -Build Jit (or Auto) here'
        Confirm-Prerequisite ($null -ne $clang) 'clang not found: sudo apt-get install clang-14 (or use -Build Jit)'
        if (-not (Test-Path (Join-Path $SysRoot '.sysroot-complete'))) {
            Confirm-Prerequisite ((Test-IsRoot) -or (Test-Command 'sudo')) `
                "the Debian 11 sysroot is missing and building it needs root: sudo bash build/make-sysroot.sh"
        }
    }
}

if (-not $PackageOnly) {
    Confirm-Prerequisite (Test-Command 's') `
        "Serverless Devs CLI 's' not found. Install it: npm install -g @serverless-devs/s (Node.js 14+)"
    Confirm-Prerequisite (Test-Path $Template) "template not found: $Template"
    $fc3 = Get-Fc3Cache
    if ($null -eq $fc3.Version) {
        Write-Info "fc3: no cached component in $($fc3.Dir); s downloads the newest one on this deployment"
    } else {
        Write-Info "fc3: $($fc3.Version) (cached in $($fc3.Dir))"
        Confirm-Prerequisite ($fc3.Version -ge $MinFc3) ("fc3 $($fc3.Version) is cached, but template.yml needs fc3 $MinFc3 or newer " +
            "(older fc3 ignores logConfig's logBeginRule=None and merges log lines). Remove $($fc3.Dir) " +
            "(or all cached components: s clean --component) and deploy again; s then downloads the current fc3")
    }

    # Credentials: either the three ALIBABA_CLOUD_* variables, or an access alias added with `s config add`.
    $access = if ($env:DEPLOY_ACCESS) { $env:DEPLOY_ACCESS } else { 'default' }
    $envCreds = $env:ALIBABA_CLOUD_ACCOUNT_ID -and $env:ALIBABA_CLOUD_ACCESS_KEY_ID -and $env:ALIBABA_CLOUD_ACCESS_KEY_SECRET
    $credsOk = [bool]$envCreds
    if (-not $credsOk -and (Test-Command 's')) {
        # The output is not shown: it describes the key pair. `s config get` exits 0 even when nothing is
        # configured, so look for the key's fields in what it says.
        $configText = (& s config get -a $access 2>&1 | Out-String)
        $credsOk = $LASTEXITCODE -eq 0 -and $configText -match 'AccessKeyID' -and $configText -notmatch 'not yet been found'
        Remove-Variable configText
    }
    Write-Info "credentials: $(if ($envCreds) { 'ALIBABA_CLOUD_* environment variables' } elseif ($credsOk) { "s access '$access'" } else { 'none found' })"
    Confirm-Prerequisite $credsOk ("no Alibaba Cloud credentials. Run: s config add -a $access " +
        '(AccountID, AccessKeyID, AccessKeySecret of a RAM user with AliyunFCFullAccess), ' +
        'or set ALIBABA_CLOUD_ACCOUNT_ID, ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET')

    Confirm-Prerequisite ([bool]$Domain -and $Domain -match '^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$') `
        "-Domain is required and must be a host name such as api.example.com (or set DEPLOY_DOMAIN)"
    Confirm-Prerequisite ($Region -match '^[a-z]{2}(-[a-z0-9]+)+$') "-Region '$Region' is not a region id such as ap-southeast-1"
    if ($Region -like 'cn-*') {
        Write-Host "    warning: $Region is in China; OpenAI refuses traffic from mainland China and Hong Kong" -ForegroundColor Yellow
    }
    # fc3-domain reads the certificate paths relative to the directory `s` runs in (fs.readFileSync in its
    # https_cert_config.ts), so template.yml gets full paths.
    $CertFile = Resolve-DeployPath $env:DEPLOY_CERT_FILE 'certs/fullchain.pem'
    $KeyFile = Resolve-DeployPath $env:DEPLOY_KEY_FILE 'certs/privkey.pem'
    foreach ($f in $CertFile, $KeyFile) {
        Confirm-Prerequisite (Test-Path -LiteralPath $f -PathType Leaf) ("certificate file not found: $f. Put the PEM certificate chain and key of " +
            "$Domain there, or set DEPLOY_CERT_FILE / DEPLOY_KEY_FILE")
    }
    Write-Info "certificate: $CertFile, key: $KeyFile"
    Write-Info $(if ($HttpsOnly) { 'access: HTTPS only on the custom domain, the fcapp.run URL off (-HttpsOnly)' }
        else { 'access: HTTP and HTTPS on the custom domain, the fcapp.run URL on (the default; -HttpsOnly for HTTPS only)' })

    $setNames = @($SecretNames | Where-Object { [Environment]::GetEnvironmentVariable($_) })
    Write-Info ('secrets: ' + (($SecretNames | ForEach-Object { "$_=$(if ($setNames -contains $_) { 'set' } else { 'not set' })" }) -join ', '))
    Write-Info ('settings: ' + (($SettingNames | ForEach-Object {
                    $v = [Environment]::GetEnvironmentVariable($_); "$_=$(if ($v) { $v } else { '(default)' })" }) -join ', '))
    $vpcSet = @($VpcNames | Where-Object { [Environment]::GetEnvironmentVariable($_) })
    Confirm-Prerequisite ($vpcSet.Count -in 0, 3) ("set all of $($VpcNames -join ', ') for a VPC (a Tair limits store lives in one), " +
        "or none; only $($vpcSet -join ', ') is set")
    Write-Info ('vpc: ' + $(if ($vpcSet.Count -eq 3) { ($VpcNames | ForEach-Object { [Environment]::GetEnvironmentVariable($_) }) -join ' ' } else { 'none' }))
    if (($setNames -contains 'LIMITS_STORE') -and $vpcSet.Count -eq 0) {
        Write-Host '    warning: LIMITS_STORE is set but the function gets no VPC; a Tair instance is reachable only from its VPC (docs/limits.md)' -ForegroundColor Yellow
    }
    # An anonymous HTTP trigger is reachable by anyone: a server-side OpenAI key without proxy tokens would be an open relay.
    $keyNames = @($setNames | Where-Object { $_ -in 'OPENAI_API_KEY', 'OPENAI_API_KEYS' })
    Confirm-Prerequisite ($keyNames.Count -le 1) 'OPENAI_API_KEY and OPENAI_API_KEYS are both set: set one (OPENAI_API_KEYS may include that key).'
    Confirm-Prerequisite ($keyNames.Count -eq 0 -or ($setNames -contains 'PROXY_ACCESS_TOKENS') -or ($setNames -contains 'PROXY_TOKEN_SECRET')) `
        "$($keyNames -join '') is set but neither PROXY_ACCESS_TOKENS nor PROXY_TOKEN_SECRET: anyone could spend your key. Set one of them."
}

# ----------------------------------------------------------------------------------------------- build
if ($Code) {
    $Zip = $Code
} else {
    $PublishDir = Join-Path $RepoRoot ".cache/publish/$Kind"
    $StageDir = Join-Path $RepoRoot ".cache/package/$Kind"
    $Zip = Join-Path $DistDir "FcHandler-linux-x64-$Kind.zip"

    if ($Kind -eq 'aot' -and -not (Test-Path (Join-Path $SysRoot '.sysroot-complete'))) {
        Write-Step "Building the Debian 11 sysroot in $SysRoot"
        $script = Join-Path $RepoRoot 'build/make-sysroot.sh'
        if (Test-IsRoot) { Invoke-Native 'bash' @($script, $SysRoot) } else { Invoke-Native 'sudo' @('bash', $script, $SysRoot) }
    }

    Write-Step "Publishing FcHandler ($Kind, linux-x64)"
    # A separate artifacts folder per kind: the AOT and JIT restores differ and must not share obj/ with
    # each other or with the ordinary Debug build.
    $publishArgs = @('publish', $Project, '-c', 'Release', '-r', 'linux-x64', '-o', $PublishDir, '-nologo',
        '--artifacts-path', (Join-Path $RepoRoot ".cache/artifacts/$Kind"))
    if ($Kind -eq 'aot') {
        $publishArgs += @('-p:PublishAot=true', "-p:SysRoot=$SysRoot", "-p:CppCompilerAndLinker=$clang")
    } else {
        $publishArgs += @('-p:PublishAot=false', '-p:SelfContained=true', '-p:PublishTrimmed=true', '-p:PublishReadyToRun=true')
    }
    if (-not $DryRun -and (Test-Path $PublishDir)) { Remove-Item -Recurse -Force $PublishDir }
    Invoke-Native 'dotnet' $publishArgs

    # --------------------------------------------------------------------------------------------- package
    Write-Step "Packaging $Zip"
    $bootstrapSource = Join-Path $RepoRoot 'build/bootstrap'
    $sslLibs = @('libssl.so.1.1', 'libcrypto.so.1.1') | ForEach-Object { Join-Path $SysRoot "usr/lib/x86_64-linux-gnu/$_" }
    $caBundle = Join-Path $SysRoot 'etc/ssl/certs/ca-certificates.crt'
    $haveFallback = @(@($sslLibs + $caBundle) | Where-Object { -not (Test-Path $_) }).Count -eq 0
    Write-Info "bootstrap: $bootstrapSource"
    Write-Info $(if ($haveFallback) { "OpenSSL fallback: Debian 11 libssl1.1 and CA bundle from $SysRoot" }
        else { 'OpenSSL fallback: none (no Debian 11 sysroot here); the zip relies on the libssl of FC''s image' })

    if (-not $DryRun) {
        if (Test-Path $StageDir) { Remove-Item -Recurse -Force $StageDir }
        $null = New-Item -ItemType Directory -Force -Path $StageDir
        # Debug symbols (.dbg, .pdb) stay out: they triple the AOT zip and FC never reads them.
        Get-ChildItem -Path $PublishDir -Recurse -File |
            Where-Object { $_.Extension -notin '.dbg', '.pdb' } |
            ForEach-Object {
                $rel = [System.IO.Path]::GetRelativePath($PublishDir, $_.FullName)
                $dest = Join-Path $StageDir $rel
                $null = New-Item -ItemType Directory -Force -Path (Split-Path $dest)
                Copy-Item -LiteralPath $_.FullName -Destination $dest
            }
        if (-not (Test-Path (Join-Path $StageDir 'FcHandler'))) { Stop-WithError "publish produced no FcHandler binary in $PublishDir" }
        # LF line endings whatever the checkout did: "#!/bin/sh\r" would not start.
        $bootstrapText = (Get-Content -Raw $bootstrapSource).Replace("`r`n", "`n")
        [System.IO.File]::WriteAllText((Join-Path $StageDir 'bootstrap'), $bootstrapText)
        if ($haveFallback) {
            $null = New-Item -ItemType Directory -Force -Path (Join-Path $StageDir 'lib'), (Join-Path $StageDir 'certs')
            foreach ($lib in $sslLibs) { Copy-Item -LiteralPath $lib -Destination (Join-Path $StageDir 'lib') }
            Copy-Item -LiteralPath $caBundle -Destination (Join-Path $StageDir 'certs/ca-certificates.crt')
        }
        New-FcZip -SourceDir $StageDir -ZipPath $Zip -ExecutableNames @('bootstrap', 'FcHandler', 'createdump')
    }
}

# ---------------------------------------------------------------------------------------------- verify
Write-Step "Verifying $Zip"
if ($Code) { Confirm-Checksum $Zip; Test-FcZip $Zip }
elseif (-not $DryRun) { Test-FcZip $Zip }

if ($PackageOnly) {
    Write-Step $(if ($DryRun) { 'Dry run: nothing was built' } else { "Done: $Zip" })
    exit 0
}

# ---------------------------------------------------------------------------------------------- deploy
Write-Step "Deploying to FC in $Region as https://$Domain/"
# template.yml reads these from the environment; s gets them through this process's environment.
$env:DEPLOY_REGION = $Region
$env:DEPLOY_DOMAIN = $Domain
$env:DEPLOY_CERT_FILE = $CertFile.Replace('\', '/')
$env:DEPLOY_KEY_FILE = $KeyFile.Replace('\', '/')
# -HttpsOnly, or today's default; set either way, so a value left in the shell does not decide for the switch.
$env:DEPLOY_DOMAIN_PROTOCOL = if ($HttpsOnly) { 'HTTPS' } else { 'HTTP,HTTPS' }
$env:DEPLOY_DISABLE_URL_INTERNET = if ($HttpsOnly) { 'true' } else { 'false' }
# A zip of our own build by its path in the repository; a -Code zip by its full path, which fc3 takes as it is.
$env:DEPLOY_CODE = $(if ($Code) { $Zip } else { [System.IO.Path]::GetRelativePath($RepoRoot, $Zip) }).Replace('\', '/')
# template.yml reads the vSwitches as a JSON list; DEPLOY_VSWITCH_ID may name several, comma-separated.
$env:DEPLOY_VSWITCH_IDS = ConvertTo-Json -Compress -InputObject @(
    @("$env:DEPLOY_VSWITCH_ID" -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ }))
Write-Info "DEPLOY_REGION=$Region DEPLOY_DOMAIN=$Domain DEPLOY_CODE=$($env:DEPLOY_CODE) DEPLOY_VSWITCH_IDS=$($env:DEPLOY_VSWITCH_IDS)"
Write-Info "DEPLOY_DOMAIN_PROTOCOL=$($env:DEPLOY_DOMAIN_PROTOCOL) DEPLOY_DISABLE_URL_INTERNET=$($env:DEPLOY_DISABLE_URL_INTERNET) DEPLOY_CERT_FILE=$($env:DEPLOY_CERT_FILE) DEPLOY_KEY_FILE=$($env:DEPLOY_KEY_FILE)"
Push-Location $RepoRoot
$deployArgs = @('deploy', '-t', 'template.yml', '-y')
if ($env:DEPLOY_ACCESS) { $deployArgs += @('-a', $env:DEPLOY_ACCESS) }
try { Invoke-Native 's' $deployArgs }
finally { Pop-Location }
if ($DryRun) { Write-Step "Dry run: nothing was $(if ($Code) { 'deployed' } else { 'built or deployed' }); it would deploy $Zip" }
else { Write-Step "Deployed. Check: curl https://$Domain/healthz" }

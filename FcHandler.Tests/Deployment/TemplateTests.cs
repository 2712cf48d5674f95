using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace FcHandler.Tests.Deployment;

/// <summary>
/// template.yml against the fc3 component's own JSON Schema for function props (a copy of
/// ../shared/reference/fc3/fc3-props.schema.json in build/), plus the parts the schema does not cover:
/// the HTTP trigger, the custom domain, and the choices the deployment depends on.
/// </summary>
public sealed class TemplateTests
{
    private static readonly string[] AllHttpMethods = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

    private static readonly string[] AppSettings =
    [
        "UPSTREAM_BASE_URL", "GENERATION_TIMEOUT", "DEFAULT_TIMEOUT", "CORS_ALLOWED_ORIGINS", "OPENAI_API_KEY", "OPENAI_API_KEYS",
        "PROXY_ACCESS_TOKENS", "PROXY_TOKEN_SECRET", "PROXY_REVOKED_TOKEN_IDS", "MAX_REQUEST_BODY_MB", "PROXY_FORWARD_HEADERS", "TEMP_STORAGE_MB",
        "LIMITS_DEFAULT", "LIMITS_BY_SUBJECT", "LIMITS_STORE_FAILURE", "LIMITS_STORE",
    ];

    private static readonly string[] Secrets = ["OPENAI_API_KEY", "OPENAI_API_KEYS", "PROXY_ACCESS_TOKENS", "PROXY_TOKEN_SECRET", "LIMITS_STORE"];

    private static EvaluationResults Validate(JsonNode props) => JsonSchema.FromFile(DeploymentTemplate.SchemaPath).Check(props);

    [Fact]
    public void Template_Header_IsServerlessDevs3WithOneFc3Resource()
    {
        var template = DeploymentTemplate.Load();

        Assert.Equal("3.0.0", template["edition"]!.ToString());
        var resources = template["resources"]!.AsObject();
        var resource = Assert.Single(resources);
        Assert.Equal(DeploymentTemplate.ResourceName, resource.Key);
        Assert.Equal("fc3", resource.Value!["component"]!.GetValue<string>());
    }

    [Fact]
    public void FunctionProps_ValidatedAgainstFc3Schema_HaveNoErrors()
    {
        var props = DeploymentTemplate.LoadProps();
        // fc3 reads "auto|key=value|..." as "auto" with those settings (parseAutoConfig in src/utils/index.ts; its own
        // e2e templates write logConfig: auto|enableRequestMetrics=false), but its schema knows only the word "auto".
        props["logConfig"] = props["logConfig"]!.GetValue<string>().Split('|')[0];

        var results = Validate(props);

        Assert.True(results.IsValid, SchemaCheck.Describe(results));
    }

    [Fact]
    public void LogConfig_IsAutoWithOneEntryPerLine()
    {
        // JSON log lines (LOG_FORMAT=json, the default in FC) begin with '{', not a date: fc3's default rule for auto
        // (DefaultRegex) would glue them into the entry of the last line that began with a date.
        Assert.Equal("auto|logBeginRule=None", DeploymentTemplate.LoadProps()["logConfig"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("runtime", "custom.debian9")]
    [InlineData("memorySize", "100")]
    [InlineData("region", "mars-north-1")]
    public void FunctionProps_WithAnInvalidValue_FailSchemaValidation(string property, string value)
    {
        var props = DeploymentTemplate.LoadProps();
        props[property] = int.TryParse(value, out var number) ? JsonValue.Create(number) : JsonValue.Create(value);

        Assert.False(Validate(props).IsValid);
    }

    [Fact]
    public void SchemaCopy_ComparedWithSharedReference_IsIdentical()
    {
        var shared = Path.Combine(DeploymentTemplate.RepoRoot, "..", "shared", "reference", "fc3", "fc3-props.schema.json");
        if (!File.Exists(shared))
        {
            return; // a clone without shared/ beside it: the copy in build/ is all there is
        }

        Assert.Equal(File.ReadAllText(shared), File.ReadAllText(DeploymentTemplate.SchemaPath));
    }

    [Fact]
    public void Runtime_ForNativeAotBinary_IsCustomDebian11StartingBootstrapOnPort9000()
    {
        var props = DeploymentTemplate.LoadProps();

        Assert.Equal("custom.debian11", props["runtime"]!.GetValue<string>());
        var config = props["customRuntimeConfig"]!;
        Assert.Equal(["./bootstrap"], config["command"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal(9000, config["port"]!.GetValue<long>());
        Assert.EndsWith("FcHandler-linux-x64-aot.zip", props["code"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void HealthCheck_Config_GetsHealthz()
    {
        var health = DeploymentTemplate.LoadProps()["customRuntimeConfig"]!["healthCheckConfig"]!;

        Assert.Equal("/healthz", health["httpGetUrl"]!.GetValue<string>());
    }

    [Fact]
    public void LifecycleHooks_InitializerAndPreStop_AreOnAndPreStopOutlastsTheDrain()
    {
        var hooks = DeploymentTemplate.LoadProps()["instanceLifecycleConfig"]!;

        Assert.NotNull(hooks["initializer"]!["handler"]);
        Assert.NotNull(hooks["preStop"]!["handler"]);
        var preStopTimeout = TimeSpan.FromSeconds(hooks["preStop"]!["timeout"]!.GetValue<long>());
        var drainThenCloseWebSockets = new FcHandler.Fc.FcOptions().PreStopTimeout + FcHandler.Proxy.WebSockets.WebSocketSessions.CloseWait;
        Assert.True(preStopTimeout > drainThenCloseWebSockets, "FC would cut the pre-stop drain, or the WebSockets' 1001 closes, short");
    }

    [Fact]
    public void Sizing_AsOriginalGuide_IsTenthVcpuAnd128MbWithinFcRatio()
    {
        var props = DeploymentTemplate.LoadProps();
        var cpu = props["cpu"]!.GetValue<double>();
        var memoryGb = props["memorySize"]!.GetValue<long>() / 1024.0;

        Assert.Equal(0.1, cpu);
        Assert.Equal(128, props["memorySize"]!.GetValue<long>());
        Assert.InRange(memoryGb / cpu, 1.0, 4.0); // FC: vCPU : memory (GB) between 1:1 and 1:4
    }

    [Fact]
    public void Timeout_ComparedWithGenerationTimeout_IsLonger()
    {
        var props = DeploymentTemplate.LoadProps();
        var generation = FcHandler.Hosting.Duration.Parse("GENERATION_TIMEOUT", props["environmentVariables"]!["GENERATION_TIMEOUT"]!.GetValue<string>());

        Assert.Equal(TimeSpan.FromMinutes(8), generation);
        Assert.True(TimeSpan.FromSeconds(props["timeout"]!.GetValue<long>()) > generation);
    }

    [Fact]
    public void Timeout_ComparedWithOpenAIsRealtimeSessions_OutlastsTheirHour()
    {
        // A Realtime WebSocket is one call to FC: FC's timeout, not OpenAI's 60-minute session limit, would end it first.
        var timeout = TimeSpan.FromSeconds(DeploymentTemplate.LoadProps()["timeout"]!.GetValue<long>());

        Assert.True(timeout > TimeSpan.FromMinutes(60), $"FC would cut Realtime sessions at {timeout}");
        Assert.True(timeout <= TimeSpan.FromDays(1), "FC's largest function timeout is 86400 s");
    }

    [Fact]
    public void Concurrency_ForIoBoundStreams_ServesManyPerInstanceWithInternetAccess()
    {
        var props = DeploymentTemplate.LoadProps();

        Assert.True(props["instanceConcurrency"]!.GetValue<long>() >= 20);
        Assert.True(props["internetAccess"]!.GetValue<bool>());
    }

    [Fact]
    public void Region_Default_IsOverseasAndNotHongKong()
    {
        var raw = DeploymentTemplate.Load()["vars"]!["region"]!.GetValue<string>();

        Assert.False(raw.StartsWith("cn-", StringComparison.Ordinal), raw);
        Assert.Contains("${env('DEPLOY_REGION'", DeploymentTemplate.RawText, StringComparison.Ordinal);
    }

    [Fact]
    public void EnvironmentVariables_Names_AreExactlyTheAppSettings()
    {
        var env = DeploymentTemplate.LoadProps()["environmentVariables"]!.AsObject();

        Assert.Equal(AppSettings.Order(StringComparer.Ordinal), env.Select(pair => pair.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EnvironmentVariables_EveryValue_ComesFromDeployerEnvironment()
    {
        var env = DeploymentTemplate.LoadRawProps()["environmentVariables"]!.AsObject();

        foreach (var (name, value) in env)
        {
            // Secrets have no default other than empty; settings may carry a default.
            var pattern = Secrets.Contains(name)
                ? $@"^\$\{{env\('{name}'(, '')?\)\}}$"
                : $@"^\$\{{env\('{name}'(, '[^']*')?\)\}}$";
            Assert.Matches(new Regex(pattern), value!.GetValue<string>());
        }
    }

    [Fact]
    public void HttpTrigger_Config_IsAnonymousWithEveryMethodIncludingOptions()
    {
        var triggers = DeploymentTemplate.LoadProps()["triggers"]!.AsArray();

        var trigger = Assert.Single(triggers)!;
        Assert.Equal("http", trigger["triggerType"]!.GetValue<string>());
        var config = trigger["triggerConfig"]!;
        Assert.Equal("anonymous", config["authType"]!.GetValue<string>());
        Assert.Equal(AllHttpMethods, config["methods"]!.AsArray().Select(m => m!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.False(config["disableURLInternet"]?.GetValue<bool>() ?? false);
    }

    [Fact]
    public void CustomDomain_Config_ServesHttpAndHttpsWithCertificateAndCatchAllRoute()
    {
        var domain = DeploymentTemplate.LoadProps()["customDomain"]!;
        var rawDomain = DeploymentTemplate.LoadRawProps()["customDomain"]!;

        Assert.Equal("${vars.domain}", rawDomain["domainName"]!.GetValue<string>());
        Assert.Contains("${env('DEPLOY_DOMAIN'", DeploymentTemplate.RawText, StringComparison.Ordinal);
        Assert.NotEqual("auto", domain["domainName"]!.GetValue<string>(), StringComparer.OrdinalIgnoreCase);
        Assert.Equal("HTTP,HTTPS", domain["protocol"]!.GetValue<string>());
        var cert = domain["certConfig"]!;
        Assert.False(string.IsNullOrWhiteSpace(cert["certName"]?.GetValue<string>()));
        Assert.False(string.IsNullOrWhiteSpace(cert["certificate"]?.GetValue<string>()));
        Assert.False(string.IsNullOrWhiteSpace(cert["privateKey"]?.GetValue<string>()));
        Assert.Equal("/*", domain["route"]!["path"]!.GetValue<string>());
        Assert.Null(domain["route"]!["methods"]); // no method list: every method reaches the function
    }

    [Fact]
    public void HttpsOnly_TemplateValues_ComeFromTheVariablesDeployPs1SetsAndDefaultToHttpAndTheUrlOn()
    {
        var raw = DeploymentTemplate.LoadRawProps();
        var script = File.ReadAllText(Path.Combine(DeploymentTemplate.RepoRoot, "deploy.ps1"));

        // json(): the trigger needs a boolean, and the string "false" would not be one.
        Assert.Equal("${json(env('DEPLOY_DISABLE_URL_INTERNET', 'false'))}", raw["triggers"]![0]!["triggerConfig"]!["disableURLInternet"]!.GetValue<string>());
        Assert.Equal("${env('DEPLOY_DOMAIN_PROTOCOL', 'HTTP,HTTPS')}", raw["customDomain"]!["protocol"]!.GetValue<string>());
        Assert.Contains("$env:DEPLOY_DOMAIN_PROTOCOL = if ($HttpsOnly) { 'HTTPS' } else { 'HTTP,HTTPS' }", script, StringComparison.Ordinal);
        Assert.Contains("$env:DEPLOY_DISABLE_URL_INTERNET = if ($HttpsOnly) { 'true' } else { 'false' }", script, StringComparison.Ordinal);
    }

    [Fact]
    public void VpcConfig_NotSet_IsFc3sOwnNoVpc_AndInternetAccessStays()
    {
        var props = DeploymentTemplate.LoadProps();

        // fc3 sends exactly this for a function without a VPC (FC_RESOURCES_EMPTY_CONFIG in its src/default/config.ts).
        Assert.Equal("""{"vpcId":"","vSwitchIds":[],"securityGroupId":""}""", props["vpcConfig"]!.ToJsonString());
        Assert.True(props["internetAccess"]!.GetValue<bool>());
    }

    [Fact]
    public void VpcConfig_ComesFromTheVariablesDeployPs1Sets()
    {
        var raw = DeploymentTemplate.LoadRawProps()["vpcConfig"]!;
        var script = File.ReadAllText(Path.Combine(DeploymentTemplate.RepoRoot, "deploy.ps1"));

        Assert.Equal("${env('DEPLOY_VPC_ID', '')}", raw["vpcId"]!.GetValue<string>());
        Assert.Equal("${json(env('DEPLOY_VSWITCH_IDS', '[]'))}", raw["vSwitchIds"]!.GetValue<string>());
        Assert.Equal("${env('DEPLOY_SECURITY_GROUP_ID', '')}", raw["securityGroupId"]!.GetValue<string>());
        Assert.Contains("$env:DEPLOY_VSWITCH_IDS =", script, StringComparison.Ordinal);
        Assert.Contains("'DEPLOY_VPC_ID', 'DEPLOY_VSWITCH_ID', 'DEPLOY_SECURITY_GROUP_ID'", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Secrets_AreTheOnesDeployPs1ReportsOnlyAsSetOrNotSet()
    {
        var script = File.ReadAllText(Path.Combine(DeploymentTemplate.RepoRoot, "deploy.ps1"));

        Assert.Contains($"$SecretNames = @({string.Join(", ", Secrets.Select(name => $"'{name}'"))})", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Template_Text_HoldsNoSecretValue()
    {
        // No literal key or token: nothing that looks like an OpenAI key or a long opaque string.
        Assert.DoesNotMatch(new Regex(@"sk-[A-Za-z0-9_-]{16,}"), DeploymentTemplate.RawText);
        Assert.DoesNotMatch(new Regex(@"[:=]\s*['""]?[A-Za-z0-9+/_-]{32,}"), DeploymentTemplate.RawText);
    }
}

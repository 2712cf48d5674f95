using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FcHandler.Tests.Docs;
using FcHandler.Tests.Infrastructure;
using Json.Schema;

namespace FcHandler.Tests.Deployment;

/// <summary>
/// The GitHub Actions workflows in .github/workflows/ against our schema of GitHub's documented workflow syntax
/// (build/github-workflow.schema.json), so a typo fails here and not on GitHub; and held to what they must run: the
/// README's test command, and for a release the packaging steps of .ci/run and the files deploy.ps1 makes.
/// </summary>
public sealed partial class WorkflowTests
{
    private static readonly string WorkflowDirectory = Path.Combine(Fixtures.RepositoryRoot, ".github", "workflows");

    private static readonly JsonSchema Schema = JsonSchema.FromFile(Path.Combine(Fixtures.RepositoryRoot, "build", "github-workflow.schema.json"));

    public static TheoryData<string> Workflows => new(WorkflowNames());

    private static string[] WorkflowNames()
        => [.. Directory.GetFiles(WorkflowDirectory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    private static JsonNode Load(string name) => YamlJson.Parse(File.ReadAllText(Path.Combine(WorkflowDirectory, name)));

    private static EvaluationResults Validate(JsonNode workflow) => Schema.Check(workflow);


    /// <summary>Every <c>run:</c> script of every step, each line trimmed, continuation lines joined.</summary>
    private static string[] RunLines(JsonNode workflow)
        => [.. workflow["jobs"]!.AsObject()
            .SelectMany(job => job.Value!["steps"]!.AsArray())
            .Select(step => step!["run"]?.GetValue<string>())
            .OfType<string>()
            .SelectMany(script => script.Replace("\\\n", " ", StringComparison.Ordinal).Split('\n'))
            .Select(line => Whitespace().Replace(line.Trim(), " "))
            .Where(line => line.Length > 0)];

    [Fact]
    public void Workflows_CiAndRelease_AreTheOnesThere()
    {
        Assert.Equal(["ci.yml", "release.yml"], WorkflowNames());
    }

    [Theory]
    [MemberData(nameof(Workflows))]
    public void Workflow_ValidatedAgainstGitHubWorkflowSchema_HasNoErrors(string name)
    {
        var results = Validate(Load(name));

        Assert.True(results.IsValid, SchemaCheck.Describe(results));
    }

    [Theory]
    [InlineData("jobs.release", "runs-on", "runs-onn")] // a key of a job, misspelt
    [InlineData("jobs.release", "steps", "step")]
    [InlineData("", "jobs", "job")] // a key of the workflow
    [InlineData("", "on", "onn")]
    public void Workflow_WithAKeyMisspelt_FailsSchemaValidation(string parent, string key, string typo)
    {
        var workflow = Load("release.yml");
        var node = At(workflow, parent);
        var value = node[key]!;
        node.AsObject().Remove(key);
        node[typo] = value;

        Assert.False(Validate(workflow).IsValid, $"the schema let '{typo}' (for '{key}') through");
    }

    [Theory]
    [InlineData("jobs.release", "timeout-minute")] // an optional key misspelt: only the unknown key is wrong
    [InlineData("", "permission")]
    [InlineData("jobs.release.steps.1", "width")]
    public void Workflow_WithAnUnknownKey_FailsSchemaValidation(string parent, string unknown)
    {
        var workflow = Load("release.yml");
        At(workflow, parent)[unknown] = 30;

        Assert.False(Validate(workflow).IsValid, $"the schema let '{unknown}' through");
    }

    private static JsonNode At(JsonNode workflow, string path)
        => path.Length == 0 ? workflow : path.Split('.').Aggregate(workflow, (node, part)
            => int.TryParse(part, out var index) ? node[index]! : node[part]!);

    [Fact]
    public void Workflow_StepWithNeitherRunNorUses_FailsSchemaValidation()
    {
        var workflow = Load("ci.yml");
        workflow["jobs"]!["test"]!["steps"]!.AsArray().Add(new JsonObject { ["name"] = "does nothing", ["runn"] = "echo" });

        Assert.False(Validate(workflow).IsValid);
    }

    [Fact]
    public void Workflow_StepWithBothRunAndUses_FailsSchemaValidation()
    {
        var workflow = Load("ci.yml");
        workflow["jobs"]!["test"]!["steps"]!.AsArray().Add(new JsonObject { ["uses"] = "actions/checkout@v6", ["run"] = "echo" });

        Assert.False(Validate(workflow).IsValid);
    }

    [Fact]
    public void Workflow_JobWithNeitherRunsOnNorUses_FailsSchemaValidation()
    {
        var workflow = Load("ci.yml");
        workflow["jobs"]!["test"]!.AsObject().Remove("runs-on");

        Assert.False(Validate(workflow).IsValid);
    }

    [Theory]
    [MemberData(nameof(Workflows))]
    public void Workflow_Steps_RunTheReadmesTestCommand(string name)
    {
        Assert.Contains(ReadmeTestCommand(), RunLines(Load(name)));
    }

    [Fact]
    public void CiWorkflow_Triggers_ArePushesAndPullRequests()
    {
        var on = Load("ci.yml")["on"]!.AsObject();

        Assert.Equal(["pull_request", "push"], on.Select(pair => pair.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ReleaseWorkflow_Trigger_IsAVersionTagOnly()
    {
        var on = Load("release.yml")["on"]!.AsObject();

        var push = Assert.Single(on);
        Assert.Equal("push", push.Key);
        Assert.Equal(["v*"], push.Value!["tags"]!.AsArray().Select(tag => tag!.GetValue<string>()));
        Assert.Null(push.Value["branches"]);
    }

    [Fact]
    public void ReleaseWorkflow_Steps_TestThenPackageAndProveAsCiRunDoes()
    {
        // .ci/run's step 2, which runs as root there; the release runs as GitHub's runner user, with sudo (and a Debian
        // mirror for make-sysroot.sh) where root is needed.
        var ciRun = File.ReadAllLines(Path.Combine(Fixtures.RepositoryRoot, ".ci", "run"))
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("dotnet pwsh ", StringComparison.Ordinal) || line.StartsWith("bash build/", StringComparison.Ordinal))
            .ToArray();
        var release = RunLines(Load("release.yml"));

        Assert.Equal(4, ciRun.Length);
        var order = ciRun.Prepend(ReadmeTestCommand())
            .Select(command => Array.FindIndex(release, line => line == command || line.EndsWith(" " + command, StringComparison.Ordinal)))
            .ToArray();
        Assert.DoesNotContain(-1, order);
        Assert.Equal(order.Order(), order);
    }

    [Fact]
    public void ReleaseWorkflow_Uploads_TheZipsDeployScriptMakesAndTheirSha256Sums()
    {
        var script = File.ReadAllText(Path.Combine(Fixtures.RepositoryRoot, "deploy.ps1"));
        Assert.Contains("$Zip = Join-Path $DistDir \"FcHandler-linux-x64-$Kind.zip\"", script, StringComparison.Ordinal);
        var release = RunLines(Load("release.yml"));

        var sums = Assert.Single(release, line => line.StartsWith("sha256sum ", StringComparison.Ordinal));
        Assert.Equal("sha256sum FcHandler-linux-x64-aot.zip FcHandler-linux-x64-jit.zip > SHA256SUMS", sums);
        var upload = Assert.Single(release, line => line.StartsWith("gh release upload ", StringComparison.Ordinal));
        Assert.Contains("dist/FcHandler-linux-x64-aot.zip dist/FcHandler-linux-x64-jit.zip dist/SHA256SUMS", upload, StringComparison.Ordinal);
    }

    /// <summary>The test command of the README's quick start, without its comment.</summary>
    private static string ReadmeTestCommand()
    {
        var line = Assert.Single(MarkdownPage.Readme().Lines, line => line.StartsWith("dotnet test ", StringComparison.Ordinal));
        return Whitespace().Replace(line.Split('#')[0].Trim(), " ");
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}

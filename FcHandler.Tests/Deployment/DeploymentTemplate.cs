using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FcHandler.Tests.Deployment;

/// <summary>
/// template.yml as Serverless Devs would hand it to the fc3 component: YAML turned into JSON, with the
/// <c>${vars.*}</c>, <c>${env('NAME', 'default')}</c> and <c>${json(env('NAME', 'default'))}</c> variables resolved (an env variable without a
/// default becomes a placeholder, as if the deployer had set it).
/// </summary>
internal static partial class DeploymentTemplate
{
    public const string ResourceName = "openai-proxy";

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string TemplatePath => Path.Combine(RepoRoot, "template.yml");

    public static string SchemaPath => Path.Combine(RepoRoot, "build", "fc3-props.schema.json");

    public static string RawText => File.ReadAllText(TemplatePath);

    /// <summary>The whole template with variables resolved.</summary>
    public static JsonObject Load()
    {
        var raw = LoadRaw();
        var vars = raw["vars"] is JsonObject v ? Resolve(v, new JsonObject())!.AsObject() : new JsonObject();
        return Resolve(raw, vars)!.AsObject();
    }

    /// <summary>The fc3 resource's props, with variables resolved.</summary>
    public static JsonObject LoadProps()
        => Load()["resources"]![ResourceName]!["props"]!.AsObject();

    /// <summary>The fc3 resource's props exactly as written, variables unresolved.</summary>
    public static JsonObject LoadRawProps()
        => LoadRaw()["resources"]![ResourceName]!["props"]!.AsObject();

    private static JsonObject LoadRaw() => YamlJson.Parse(RawText).AsObject();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "template.yml")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no template.yml above {AppContext.BaseDirectory}");
    }

    private static JsonNode? Resolve(JsonNode? node, JsonObject vars) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(pair => KeyValuePair.Create(pair.Key, Resolve(pair.Value, vars)))),
        JsonArray array => new JsonArray(array.Select(item => Resolve(item, vars)).ToArray()),
        JsonValue value when value.TryGetValue<string>(out var text) && JsonOfEnv().Match(text) is { Success: true } json
            => JsonNode.Parse(json.Groups["default"].Value),
        JsonValue value when value.TryGetValue<string>(out var text) => JsonValue.Create(ResolveText(text, vars)),
        _ => node?.DeepClone(),
    };

    private static string ResolveText(string text, JsonObject vars)
    {
        text = EnvVariable().Replace(text, m => m.Groups["default"].Success ? m.Groups["default"].Value : $"<{m.Groups["name"].Value}>");
        return VarsVariable().Replace(text, m => vars[m.Groups["name"].Value]?.GetValue<string>()
            ?? throw new InvalidOperationException($"template uses undefined ${{vars.{m.Groups["name"].Value}}}"));
    }

    [GeneratedRegex(@"\$\{env\('(?<name>[A-Za-z_][A-Za-z0-9_]*)'(?:,\s*'(?<default>[^']*)')?\)\}")]
    private static partial Regex EnvVariable();

    // ${json(env('NAME', '<json>'))}, the whole value: Serverless Devs parses the variable's text (or the default) as JSON.
    [GeneratedRegex(@"^\$\{json\(env\('(?<name>[A-Za-z_][A-Za-z0-9_]*)',\s*'(?<default>[^']*)'\)\)\}$")]
    private static partial Regex JsonOfEnv();

    [GeneratedRegex(@"\$\{vars\.(?<name>[A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex VarsVariable();
}

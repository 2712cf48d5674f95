using System.Text.Json.Nodes;
using Json.Schema;

namespace FcHandler.Tests.Deployment;

/// <summary>A deployment file (template.yml's props, a GitHub workflow) against the JSON Schema written for it.</summary>
internal static class SchemaCheck
{
    /// <summary>The document evaluated against the schema, with every error listed.</summary>
    public static EvaluationResults Check(this JsonSchema schema, JsonNode document)
        => schema.Evaluate(document, new EvaluationOptions { OutputFormat = OutputFormat.List });

    /// <summary>One line per error: where in the document, which keyword, what it says.</summary>
    public static string Describe(EvaluationResults results)
        => string.Join(Environment.NewLine, (results.Details ?? [])
            .Where(detail => detail.Errors is not null)
            .SelectMany(detail => detail.Errors!.Select(error => $"{detail.InstanceLocation}: {error.Key}: {error.Value}")));
}

using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FcHandler.Tests.Deployment;

/// <summary>
/// A YAML document (template.yml, a GitHub workflow) as the JSON its schema is written for: mappings become objects,
/// sequences arrays, and plain scalars take their YAML 1.2 core-schema type. Keys stay strings, so a workflow's
/// <c>on:</c> is the key "on", as GitHub reads it, and not YAML 1.1's boolean.
/// </summary>
internal static class YamlJson
{
    public static JsonNode Parse(string yaml)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(yaml))
        {
            stream.Load(reader);
        }

        return ToJson(stream.Documents[0].RootNode)!;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(pair =>
            KeyValuePair.Create(((YamlScalarNode)pair.Key).Value!, ToJson(pair.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => ToJsonScalar(scalar),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };

    // YAML 1.2 core schema for plain scalars: booleans, integers, floats, null; anything quoted is a string.
    private static JsonNode? ToJsonScalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? string.Empty;
        if (scalar.Style != ScalarStyle.Plain)
        {
            return JsonValue.Create(text);
        }

        if (text is "true" or "false")
        {
            return JsonValue.Create(text == "true");
        }

        if (text is "" or "~" or "null")
        {
            return null;
        }

        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(text);
    }
}

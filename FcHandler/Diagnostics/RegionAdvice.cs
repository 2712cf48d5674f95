namespace FcHandler.Diagnostics;

/// <summary>
/// What OpenAI's region refusal means for a function, and what to do: the most common failure of this recipe is a
/// function deployed where OpenAI does not serve, and its users blame the proxy.
/// https://platform.openai.com/docs/supported-countries
/// </summary>
internal static class RegionAdvice
{
    /// <summary>OpenAI's error code for a request from a country or region it does not serve (HTTP 403).</summary>
    public const string RefusalCode = "unsupported_country_region_territory";

    /// <summary>FC regions OpenAI serves, where <c>custom.debian11</c> exists.</summary>
    public const string ServedRegions =
        "ap-southeast-1 (Singapore), ap-northeast-1 (Tokyo), us-west-1 (Silicon Valley), us-east-1 (Virginia) or eu-central-1 (Frankfurt)";

    /// <summary>Says why, for the function's <c>FC_REGION</c> (empty outside FC), and what to do.</summary>
    public static string Explain(string? fcRegion)
    {
        if (string.IsNullOrWhiteSpace(fcRegion))
        {
            return "OpenAI does not serve the country or region of this machine's outbound address (FC_REGION is not set: "
                + $"not running in FC). Run the proxy in an FC region OpenAI serves: {ServedRegions}.";
        }

        var why = fcRegion.StartsWith("cn-", StringComparison.OrdinalIgnoreCase)
            ? "OpenAI serves neither mainland China nor Hong Kong"
            : "OpenAI does not serve requests from that region's outbound addresses";
        return $"The function runs in {fcRegion} (FC_REGION), and {why}. Deploy it to {ServedRegions} "
            + "(deploy.ps1 -Region ap-southeast-1) and point the clients at the new function.";
    }
}

using System.Text;

namespace FcHandler.Limits;

/// <summary>
/// What makes a request's cost unbounded by its bytes, said once for the two scans that find it: a body's
/// (<see cref="UnboundedInputScan"/>) and a WebSocket message's (<c>Proxy/WebSockets/JsonMessageScan</c>). Each finding
/// is the class <c>unmetered=</c> names (<see cref="SpendTable.StoredInput"/>, <see cref="SpendTable.HostedTools"/>)
/// and what it is, for the error and the close reason (docs/limits.md, "What is metered").
/// </summary>
internal static class UnmeteredInput
{
    // Tool types whose calls come back to the client to run: the response ends there, within its reservation.
    // openai-python src/openai/types/responses/tool_param.py (ToolParam), src/openai/types/realtime/realtime_tools_config_union_param.py;
    // "shell" and "tool_search" by their settings.
    private static readonly string[] ClientTools = ["function", "custom", "local_shell", "apply_patch", "computer", "computer_use_preview", "namespace"];

    public static readonly (string Class, string What) ItemReference = (SpendTable.StoredInput, "refers to a stored item (item_reference)");

    public static readonly (string Class, string What) FileById = (SpendTable.StoredInput, "refers to a file by id");

    public static readonly (string Class, string What) FileByUrl = (SpendTable.StoredInput, "refers to a file by URL");

    public static readonly (string Class, string What) ImageByUrl = (SpendTable.StoredInput, "refers to an image by URL (OpenAI counts an image by its size)");

    public static readonly (string Class, string What) AudioById = (SpendTable.StoredInput, "refers to an earlier audio answer by id");

    /// <summary>A member that names stored input (<c>previous_response_id</c>, <c>conversation</c>, a stored <c>prompt</c>).</summary>
    public static (string Class, string What) StoredReference(string key) => (SpendTable.StoredInput, $"refers to stored input ({key}), which OpenAI reads again as input");

    /// <summary>A tool OpenAI runs (or chat's <c>web_search_options</c>), by its type.</summary>
    public static (string Class, string What) HostedTool(string? type) => (SpendTable.HostedTools, $"uses a tool OpenAI runs itself ({type ?? "of no type"})");

    /// <summary>
    /// Whether OpenAI runs a tool of this <paramref name="type"/>: any type but the client's own; a shell where its
    /// environment's type says (local by default); a tool search where its execution says. An unknown type is OpenAI's.
    /// </summary>
    public static bool IsHosted(string? type, string? environment, string? execution) => type switch
    {
        "shell" => environment is not (null or "local"),
        "tool_search" => execution != "client",
        _ => Array.IndexOf(ClientTools, type) < 0,
    };

    /// <summary>
    /// Whether an image URL, by its first characters decoded, is a data: URL: it carries the image in the message,
    /// whose bytes bound its tokens.
    /// </summary>
    public static bool IsInline(ReadOnlySpan<byte> decodedPrefix) => decodedPrefix.Length >= 5 && Ascii.EqualsIgnoreCase(decodedPrefix[..5], "data:"u8);
}

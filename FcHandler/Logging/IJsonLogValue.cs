using System.Text.Json;

namespace FcHandler.Logging;

/// <summary>
/// A log message argument that writes itself into a JSON line (<c>LOG_FORMAT=json</c>) as a number, an object, or
/// nothing at all when it has no value, instead of as its text. Its <see cref="object.ToString"/> is the text form.
/// </summary>
internal interface IJsonLogValue
{
    void WriteJson(Utf8JsonWriter writer, JsonEncodedText name);
}

namespace FcHandler.Tests.Infrastructure;

/// <summary>What the fake upstream received: everything a test may assert about the forwarded request.</summary>
public sealed record RecordedRequest(
    string Method,
    string Path,
    string Query,
    string Host,
    IReadOnlyDictionary<string, string> Headers,
    byte[] Body)
{
    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);
}

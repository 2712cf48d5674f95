using FcHandler.Limits;

namespace FcHandler.Keys;

/// <summary>
/// One OpenAI key of the pool. Logs, the access line and <c>doctor</c> name it by <see cref="Label"/>: its name from
/// <c>OPENAI_API_KEYS</c>, else its fingerprint; <see cref="ToString"/> gives the same, so the secret cannot reach a log
/// line by accident.
/// </summary>
internal sealed class UpstreamKey
{
    public UpstreamKey(string secret, string? name)
    {
        Authorization = "Bearer " + secret;
        Fingerprint = KeySubject.For(secret);
        Label = name ?? Fingerprint;
        Seed = Rendezvous.Seed(Fingerprint);
    }

    /// <summary>The <c>Authorization</c> value the upstream gets with this key. Never logged.</summary>
    public string Authorization { get; }

    /// <summary><c>key-</c> and 16 hex digits of the key's SHA-256: the same on every instance, and reveals nothing.</summary>
    public string Fingerprint { get; }

    /// <summary>The key's name, or its fingerprint when it has none.</summary>
    public string Label { get; }

    /// <summary>The key's part of every rendezvous score, from its fingerprint (not its position, so reordering the list moves no subject).</summary>
    public ulong Seed { get; }

    public override string ToString() => Label;
}

namespace FcHandler.Keys;

/// <summary>
/// Rendezvous (highest random weight) hashing: every key scores every subject, and a subject goes to the healthy key
/// with the highest score. Subjects spread evenly; a key that cools down moves only its own subjects (each to its second
/// choice), and they come back when it does, so OpenAI's prompt cache, which is per organisation, keeps hitting.
/// Stable across processes and restarts: FNV-1a and a SplitMix64 finaliser, never <see cref="string.GetHashCode()"/>.
/// </summary>
internal static class Rendezvous
{
    private const ulong FnvOffset = 14695981039346656037;
    private const ulong FnvPrime = 1099511628211;

    public static ulong Seed(string text) => Fnv(FnvOffset, text);

    public static ulong Score(ulong keySeed, string subject) => Mix(Fnv(keySeed, subject));

    private static ulong Fnv(ulong hash, string text)
    {
        foreach (var c in text)
        {
            hash = (hash ^ c) * FnvPrime;
        }

        return hash;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}

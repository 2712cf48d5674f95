namespace FcHandler.Keys;

/// <summary>A key chosen for one attempt; <paramref name="Probe"/> when it is the one request trying a key whose cooldown has ended.</summary>
internal readonly record struct KeyChoice(int Index, UpstreamKey Key, bool Probe);

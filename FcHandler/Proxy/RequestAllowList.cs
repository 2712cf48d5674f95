using System.Collections.Frozen;

namespace FcHandler.Proxy;

/// <summary>
/// The request headers that go upstream: exact names in a frozen set, families by a short list of prefixes, both
/// case-insensitive. Built once at start-up (<see cref="HeaderRules.RequestAllowListWith"/>); deciding a header
/// allocates nothing.
/// </summary>
internal sealed class RequestAllowList(IEnumerable<string> names, IEnumerable<string> prefixes)
{
    private readonly FrozenSet<string> _names = names.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    private readonly string[] _prefixes = [.. prefixes];

    public bool Allows(string name)
    {
        if (_names.Contains(name))
        {
            return true;
        }

        foreach (var prefix in _prefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

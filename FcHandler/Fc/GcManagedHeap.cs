namespace FcHandler.Fc;

/// <summary>The runtime's garbage collector.</summary>
internal sealed class GcManagedHeap : IManagedHeap
{
    public long CommittedBytes => GC.GetGCMemoryInfo().TotalCommittedBytes;

    // Aggressive: compacts the large object heap too and decommits what is free instead of keeping it for the next
    // allocations; blocking, because a background collection would leave that to a later one.
    // https://learn.microsoft.com/dotnet/api/system.gccollectionmode#fields
    public void Compact() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
}

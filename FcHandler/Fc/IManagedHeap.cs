namespace FcHandler.Fc;

/// <summary>The garbage-collected heap as <see cref="IdleMemoryTrim"/> sees it; tests stand in for the runtime's.</summary>
internal interface IManagedHeap
{
    /// <summary>The bytes the garbage collector had committed at its last collection.</summary>
    long CommittedBytes { get; }

    /// <summary>Runs a full, compacting collection that gives every free region back to the operating system.</summary>
    void Compact();
}

namespace FcHandler.Fc;

/// <summary>What <see cref="IdleMemoryTrim"/> decided at the end of one quiet period.</summary>
internal enum IdleTrimOutcome
{
    /// <summary>The heap was compacted and its free memory given back.</summary>
    Compacted,

    /// <summary>The heap had not grown enough since the last trim to be worth a collection.</summary>
    BelowThreshold,

    /// <summary>A request came during the quiet period; the wait starts again when it ends.</summary>
    Busy,

    /// <summary>The wait took far longer than asked: the instance was frozen, and a request is likely arriving.</summary>
    Overslept,
}

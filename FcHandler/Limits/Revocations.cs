namespace FcHandler.Limits;

/// <summary>The signed-token ids revoked through the store (<c>token revoke</c>), as of <see cref="Version"/>.</summary>
/// <param name="Version">Grows with every revocation; an unchanged version means an unchanged list.</param>
/// <param name="Ids">The ids, or null when they are those of the version the caller already had.</param>
internal sealed record Revocations(long Version, string[]? Ids);

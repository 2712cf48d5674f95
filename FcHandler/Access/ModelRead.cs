namespace FcHandler.Access;

/// <summary>What a request's body names (<see cref="ModelReader"/>), and for a multipart body that can be read two ways, what is ambiguous.</summary>
internal readonly record struct ModelRead(ModelReader.Outcome Outcome, string? Model, string? Ambiguity = null);

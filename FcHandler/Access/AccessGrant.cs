using FcHandler.Proxy;

namespace FcHandler.Access;

/// <summary>A client admitted by token: who it is and what its token lets it do.</summary>
internal sealed class AccessGrant(string subject, string[]? models, RouteClass[]? routes)
{
    /// <summary>Names the client in the access log: a signed token's <c>sub</c>, or <c>static-N</c> for the Nth static token.</summary>
    public string Subject { get; } = subject;

    /// <summary>Whether requests must name an allowed model, which means reading the body.</summary>
    public bool HasModelScope => models is not null;

    public bool AllowsRoute(RouteClass route) => routes is null || routes.Contains(route);

    public bool AllowsModel(string model)
    {
        if (models is null)
        {
            return true;
        }

        foreach (var pattern in models)
        {
            if (TokenScopes.ModelMatches(pattern, model))
            {
                return true;
            }
        }

        return false;
    }
}

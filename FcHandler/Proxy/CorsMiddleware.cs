namespace FcHandler.Proxy;

/// <summary>
/// Puts CORS headers on every response, whoever writes it (forwarded, local, error), by adding them as the response
/// starts; answers OPTIONS preflights without the upstream.
/// </summary>
internal sealed class CorsMiddleware(RequestDelegate next, CorsPolicy policy)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (HttpMethods.IsOptions(context.Request.Method))
        {
            policy.ApplyTo(context.Request, context.Response);
            policy.AnswerPreflight(context.Request, context.Response);
            return Task.CompletedTask;
        }

        context.Response.OnStarting(
            static state =>
            {
                var (httpContext, corsPolicy) = ((HttpContext, CorsPolicy))state;
                corsPolicy.ApplyTo(httpContext.Request, httpContext.Response);
                return Task.CompletedTask;
            },
            (context, policy));
        return next(context);
    }
}

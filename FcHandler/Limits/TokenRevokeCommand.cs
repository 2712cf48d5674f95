using FcHandler.Access;
using FcHandler.Hosting;

namespace FcHandler.Limits;

/// <summary>
/// <c>token revoke &lt;id&gt;</c>: adds a signed token's id to the revocations in the shared store
/// (<c>LIMITS_STORE</c>). Every instance refuses the token within <see cref="RevocationList.RefreshEvery"/>, with no
/// redeploy; <c>PROXY_REVOKED_TOKEN_IDS</c> stays for deployments without a store.
/// </summary>
internal static class TokenRevokeCommand
{
    public const string Usage =
        "usage: token revoke <id>\n" +
        "  The token's id (its jti), as token issue printed it. Reads LIMITS_STORE from the environment.";

    public static Task<int> RunAsync(string[] args)
        => RunAsync(args, new ConfigurationBuilder().AddEnvironmentVariables().Build(), Console.Out, Console.Error);

    public static async Task<int> RunAsync(string[] args, IConfiguration configuration, TextWriter stdout, TextWriter stderr)
    {
        if (args is not [var id])
        {
            await stderr.WriteLineAsync(Usage);
            return 2;
        }

        if (!TokenScopes.IsValidId(id))
        {
            await stderr.WriteLineAsync("token revoke: the id must be a token's id as token issue printed it (letters, digits, - and _, at most 64).");
            return 2;
        }

        try
        {
            var (store, connection, exit) = await StoreCommandConnection.OpenAsync("token revoke", LimitsOptionsReader.Read(configuration), configuration, stderr);
            if (store is null)
            {
                return exit;
            }

            await using (connection)
            {
                var added = await store.RevokeAsync(id, CancellationToken.None).WaitAsync(RedisConnection.ConnectTimeout);
                await stdout.WriteLineAsync(added
                    ? $"Revoked token id={id}: every instance refuses it within {RevocationList.RefreshEvery.TotalSeconds:0}s."
                    : $"Token id={id} was already revoked.");
                return 0;
            }
        }
        catch (ConfigurationException exception)
        {
            await stderr.WriteLineAsync($"token revoke: {exception.Message}");
            return 2;
        }
        catch (Exception exception) when (exception is StackExchange.Redis.RedisException or TimeoutException)
        {
            await stderr.WriteLineAsync($"token revoke: the limits store did not take the revocation ({exception.GetType().Name}: {exception.Message.Split('\n')[0]}).");
            return 1;
        }
    }
}

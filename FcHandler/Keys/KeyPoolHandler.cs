namespace FcHandler.Keys;

/// <summary>
/// Sends each upstream request of server-key mode with a key of the pool, and fails over to the next key before
/// anything reaches the client. It sits in the forwarder's <see cref="HttpMessageInvoker"/>, between YARP and the
/// connection pool: YARP sees only the answer this returns, so a 429 that another key can take never starts the
/// client's response, and YARP's own handling (streaming, the WebSocket upgrade, its error reports) is unchanged.
/// A response transform could not do this: YARP has already committed to that answer when it runs. The decision is
/// made on the status and headers (and, for 401, 403 and 429, the first bytes of OpenAI's small error body, given back
/// whole); the rules are <see cref="FailoverRule"/>'s. A request sent again carries the buffered request body from its
/// start, after the first attempt's copy of it has ended. When every key fails, the last answer goes to the client
/// unchanged (the last failure, if none answered).
/// </summary>
internal sealed class KeyPoolHandler(KeyPool pool) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        => request.Options.TryGetValue(KeyAttempt.Option, out var attempt) ? SendWithPoolAsync(request, attempt, cancellationToken) : base.SendAsync(request, cancellationToken);

    private async Task<HttpResponseMessage> SendWithPoolAsync(HttpRequestMessage request, KeyAttempt attempt, CancellationToken cancellationToken)
    {
        if (!pool.IsPool)
        {
            attempt.Served = pool.Keys[0];
            attempt.Tried++;
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false); // admission has set its key
        }

        var choices = pool.Choose(attempt.Subject);

        // A body that cannot be read again from its start cannot go to a second key.
        var original = request.Content;
        var count = original is null || attempt.Body is { CanSeek: true } ? choices.Length : 1;
        var content = original is null ? null : AttemptContent.First(original);
        var next = 0;
        try
        {
            while (true)
            {
                var choice = choices[next++];
                var last = next == count;
                request.Headers.Authorization = null;
                request.Headers.TryAddWithoutValidation("Authorization", choice.Key.Authorization);
                request.Content = content;
                attempt.Served = choice.Key;
                attempt.Tried++;

                HttpResponseMessage response;
                try
                {
                    response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception)
                {
                    var failed = FailoverRule.ForFailure(exception, cancellationToken);
                    if (failed is not { } verdict)
                    {
                        pool.Release(choice);
                        throw;
                    }

                    pool.Report(choice, verdict, attempt.RequestId);
                    if (last)
                    {
                        throw;
                    }

                    content = await NextContentAsync(content, original, attempt, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                KeyVerdict judged;
                try
                {
                    judged = await FailoverRule.JudgeAsync(response, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    pool.Release(choice);
                    response.Dispose();
                    throw;
                }

                pool.Report(choice, judged, attempt.RequestId);
                if (!judged.FailsOver || last)
                {
                    return response;
                }

                response.Dispose();
                content = await NextContentAsync(content, original, attempt, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // Probes won but never tried go back.
            for (var i = next; i < choices.Length; i++)
            {
                pool.Release(choices[i]);
            }
        }
    }

    // The next attempt's body, once the last attempt's copy of it has ended (it ends soon after its response is disposed).
    private static async Task<AttemptContent?> NextContentAsync(AttemptContent? previous, HttpContent? original, KeyAttempt attempt, CancellationToken cancellationToken)
    {
        if (previous is null)
        {
            return null;
        }

        await previous.WhenDoneAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        return AttemptContent.Again(original!, attempt.Body!);
    }
}

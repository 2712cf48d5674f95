using StreamBench;

// stream-bench upstream --port P [--events N] [--interval-ms M] [--key-behaviour KEY=ok|429|insufficient_quota|401|500,...]
//     [--rate-limit-reset-ms R]     (GET /__stats on its port: requests per API key; ?reset=1 zeroes them)
// stream-bench client --port P [--path /v1/chat/completions] [--streams S] [--ramp-ms R] [--events N] [--interval-ms M]
//     [--timeout-ms T] [--token T | --tokens T1,T2,...] [--request-ids on] [--quiet-ms Q --quiet-streams K] --out FILE
//     (the client asks the upstream for N events, M ms apart if given; --token: the bearer token it sends, sk-bench by
//     default; --tokens: stream i sends T[i mod n]; --request-ids: X-Client-Request-Id per stream, so failovers show;
//     --quiet-ms: K of the streams get their headers, then Q ms of silence, then their events)
// stream-bench ws-client --port P [--path /v1/realtime?model=gpt-realtime] [--sessions S] [--ramp-ms R] [--events N]
//     [--interval-ms M] [--frame-bytes B] [--timeout-ms T] [--token T] --out FILE   (Realtime sessions over WebSocket:
//     the upstream above accepts the upgrade and sends each N audio deltas of B base64 bytes, M ms apart)
// Every option is described in Options.cs.
Options options;
try
{
    options = Options.Parse(args);
    _ = KeyBehaviours.Parse(options.KeyBehaviour, options.RateLimitResetMs); // a mistyped behaviour stops here, not mid-run
}
catch (Exception exception) when (exception is FormatException or ArgumentException)
{
    Console.Error.WriteLine("StreamBench: " + exception.Message);
    return 2;
}

return options.Command switch
{
    "upstream" => await SseUpstream.RunAsync(options),
    "client" => await StreamClient.RunAsync(options),
    "ws-client" => await WebSocketClient.RunAsync(options),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: StreamBench upstream|client|ws-client --port P [options]");
    return 2;
}

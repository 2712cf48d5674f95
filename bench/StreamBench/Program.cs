using StreamBench;

// stream-bench upstream --port P [--events N] [--interval-ms M]
// stream-bench client --port P [--path /v1/chat/completions] [--streams S] [--ramp-ms R] [--events N] [--interval-ms M]
//     [--timeout-ms T] [--token T] --out FILE     (the client asks the upstream for N events, M ms apart if given;
//     --token: the bearer token it sends, sk-bench by default)
// stream-bench ws-client --port P [--path /v1/realtime?model=gpt-realtime] [--sessions S] [--ramp-ms R] [--events N]
//     [--interval-ms M] [--frame-bytes B] [--timeout-ms T] [--token T] --out FILE   (Realtime sessions over WebSocket:
//     the upstream above accepts the upgrade and sends each N audio deltas of B base64 bytes, M ms apart)
var options = Options.Parse(args);
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

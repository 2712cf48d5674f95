using StreamBench;

// stream-bench upstream --port P [--events N] [--interval-ms M]
// stream-bench client --port P [--path /v1/chat/completions] [--streams S] [--ramp-ms R] [--events N] [--interval-ms M]
//     [--timeout-ms T] [--token T] --out FILE     (the client asks the upstream for N events, M ms apart if given;
//     --token: the bearer token it sends, sk-bench by default)
var options = Options.Parse(args);
return options.Command switch
{
    "upstream" => await SseUpstream.RunAsync(options),
    "client" => await StreamClient.RunAsync(options),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: StreamBench upstream|client --port P [options]");
    return 2;
}

"""Every benchmark scenario, as data: bench/bench.py runs one by name, bench/report.py reports it, and bench/README.md's
scenario table is `bench.py --list --markdown`.

A scenario is a dict:
  what       one line: what it answers.
  procedure  the code that runs it (bench/lib): "wholecore" (whole cores, wrk and StreamBench, no cgroup); "fc" (each
             system in its own cgroup of the given shape, a TLS upstream; phases cold, stream and ws); "limits" (the
             proxy alone at the instance's limits: memcap, slow, soak); "store" (limits and their Redis store).
  systems    {name: settings}: nginx systems by their config ("nginx": "tuned.conf"); the proxy by "env", the
             environment it gets on top of FC's (and "bin" for another build). "fc" runs exactly these; the others
             name theirs here and keep the details in their procedure.
  cgroup     the instance each system runs in: SEED below, or None (whole cores, pinned to a CPU).
  upstream   the fake upstream: StreamBench's arguments ("upstream", ...), behind a TLS terminator under "fc".
  load       what drives it: {phase: StreamBench arguments, or words}; {level} is the level's streams or sessions.
  phases     "fc" only: which of cold, stream and ws run (all three if absent); transports: of the upstream, tls and
             plain (both if absent).
  levels     the concurrency levels of the "stream" phase (quick_levels: the --quick run's).
  metrics    the figures of each level's table, in order (bench/report.py's METRICS names them; a StreamBench list
             "x_us" in the client's JSON gives x_p50_ms, x_p99_ms and x_max_ms with no code).
  token      "fc" only: the bearer token of the first request, the warm-up and the cold starts (an access token for a
             proxy in server-key mode; StreamBench's sk-bench if absent). The load names its own.
  subject, baseline  "fc" only: the report's figures are ratios of each system to the baseline (nginx-tuned if
             absent), and the subject (fc-aot) is held to the targets.
  args       the procedure's options (--quick is passed on where the procedure has one).
  latest     where a full run's report is committed, under bench/latest/ ("" for bench/latest itself); None: never.
  root       True: the systems run in the Debian 11 root (FC's software) unless --host.
  minutes    about how long a full run takes, after the builds.

To add a scenario, add an entry; bench.py --list shows it, bench/run.sh --scenario NAME runs it.
"""

# The seed's instance size: what template.yml deploys (FC 3.0 allows down to 0.05 vCPU; this is not FC's smallest).
SEED = {"quota_us": 10_000, "period_us": 100_000, "memory_mb": 128}

NGINX = {"nginx-tuned": {"nginx": "tuned.conf"}, "nginx-original": {"nginx": "original.conf"}}
FC_AOT = {"fc-aot": {"env": {}}}
STREAM_METRICS = ["delay_p50_ms", "delay_p99_ms", "delay_max_ms", "cpu_us_per_event", "throttled", "completed",
                  "peak_mb", "at_peak", "limits"]
# The limits-store systems: server-key mode, one static access token the load sends; {store} and {dead}: the ports of
# the run's redis-server and of a port nobody listens on.
STORE_OFF = {"OPENAI_API_KEY": "sk-fcbench-server-key", "PROXY_ACCESS_TOKENS": "fcbench-static-token-0001"}
STORE_MEMORY = {**STORE_OFF, "LIMITS_DEFAULT": "rpm=1000000,tpm=1000M,concurrency=100000,budget=1000000M/month"}
STORE_REDIS = {**STORE_MEMORY, "LIMITS_STORE": "redis://127.0.0.1:{store}/0"}

# What every scenario on the seed's instance size shares: the cgroup, the Debian 11 root, StreamBench's SSE upstream
# (behind a TLS terminator that offers h2) sending 100 events 20 ms apart unless a request asks otherwise.
FC_SHAPED = {"cgroup": SEED, "root": True, "upstream": ["upstream", "--events", "100", "--interval-ms", "20"]}
ALONE = {**FC_SHAPED, "procedure": "limits", "systems": FC_AOT}  # the proxy alone at the instance's limits

# The key pool's systems: server-key mode with 30 static access tokens (30 subjects, which the pool spreads over its
# keys), one key against three. StreamBench's upstream accepts any key unless --key-behaviour says otherwise.
TOKENS = [f"fcbench-subject-token-{i:02d}" for i in range(30)]
POOL_CLIENT = ["--tokens", ",".join(TOKENS)]
KEY1 = {"PROXY_ACCESS_TOKENS": ",".join(TOKENS), "OPENAI_API_KEY": "sk-bench-key-1"}
KEYS3 = {"PROXY_ACCESS_TOKENS": ",".join(TOKENS), "OPENAI_API_KEYS": "k1=sk-bench-key-1,k2=sk-bench-key-2,k3=sk-bench-key-3"}

SCENARIOS = {
    "wholecore": {
        "what": "FcHandler beside the original nginx recipe and a tuned nginx on whole cores: throughput, latency, "
                "streams, cold start, RSS",
        "procedure": "wholecore",
        "systems": {"direct": {"upstream": True}, **NGINX, **FC_AOT, "fc-jit": {"bin": "jit"},
                    "fc-aot-quiet": {"env": {"Logging__LogLevel__FcHandler.Logging.AccessLogMiddleware": "Warning"},
                                     "phases": ["http"]}},
        "cgroup": None,
        "upstream": ["upstream", "--events", "20", "--interval-ms", "100"],
        "load": {"http": "wrk -c64, 5 alternating rounds of 5 s", "stream": ["client", "--streams", "500"],
                 "cold": "spawn to first proxied 200, 7 alternating"},
        "metrics": ["req/s", "p50/p99 ms", "CPU us/request", "time to first event", "event delay p50/p99/max",
                    "cold start ms", "idle and peak RSS"],
        "args": [], "latest": "", "root": False, "minutes": 5,
    },
    "fc": {
        **FC_SHAPED,
        "what": "each system on the seed's instance size, FC's software: cold start as FC sequences it, stream levels "
                "over TLS and plain HTTP, Realtime WebSocket levels",
        "procedure": "fc",
        "systems": {**NGINX, **FC_AOT},
        "load": {"cold": "spawn, listening, POST /initialize, first proxied 200; 7 alternating per path",
                 "stream": ["client", "--streams", "{level}", "--events", "100"],
                 "ws": ["ws-client", "--sessions", "{level}", "--frames", "200"]},
        "levels": [10, 25, 50, 100, 200], "quick_levels": [25, 100],
        "metrics": STREAM_METRICS,
        "args": [], "latest": "fc", "minutes": 16,
    },
    "memcap": {
        **ALONE,
        "what": "the proxy alone at the instance's memory: 200 streams, 32 MB uploads and bursts in 128 MB",
        "load": {"memcap": "lib/fc_load.py: 200 streams of 300 events, 2 uploads of 32 MB, bursts of 50 every 5 s"},
        "metrics": ["OOM kills", "limit hits", "cgroup peak and its parts", "GC heap", "RSS", "back to idle"],
        "args": ["memcap"], "latest": "memcap", "minutes": 4,
    },
    "slow": {
        **ALONE,
        "what": "1,000 slow and idle connections beside 50 streams",
        "load": {"slow": "StreamBench 50 streams in rounds; lib/fc_load.py: 400 idle, 300 trickling headers, 300 bodies"},
        "metrics": ["p99 event delay per round", "what each slow connection got, when", "descriptors",
                    "memory per connection"],
        "args": ["slow"], "latest": "slow", "minutes": 6,
    },
    "soak": {
        **ALONE,
        "what": "mixed traffic and upstream faults for --minutes (30 for the committed run): drift",
        "load": {"soak": "lib/fc_load.py: streams, uploads, aborts, upstream 429/500, drops, bursts, trickles"},
        "metrics": ["unexpected outcomes", "memory, RSS, descriptors, threads drift per minute"],
        "args": ["soak", "--minutes", "30"], "latest": "soak", "minutes": 32,
    },
    "store": {
        **FC_SHAPED,
        "what": "what limits cost, in memory and in a real redis-server, at three store timeouts",
        "procedure": "store",
        "systems": {"off": {"env": STORE_OFF}, "memory": {"env": STORE_MEMORY}, "redis": {"env": STORE_REDIS},
                    "redis-100ms": {"env": {**STORE_REDIS, "LIMITS_STORE_TIMEOUT": "100ms"}},
                    "redis-500ms": {"env": {**STORE_REDIS, "LIMITS_STORE_TIMEOUT": "500ms"}},
                    "store-down": {"env": {**STORE_MEMORY, "LIMITS_STORE": "redis://127.0.0.1:{dead}/0",
                                           "LIMITS_STORE_FAILURE": "local"}}},
        "load": {"paced": "lib/fc_load.py --rate 25, 150, 400, 800 requests/s (open loop)",
                 "stream": ["client", "--streams", "{level}", "--events", "100"], "hung": "redis SIGSTOPped 10 s"},
        "metrics": ["CPU us/request", "latency p50/p99/max", "admissions decided locally", "fallback warnings",
                    "idle memory", "cold start"],
        "args": [], "latest": "store", "minutes": 30,
    },
    "keypool": {
        **FC_SHAPED,
        "what": "a pool of three healthy upstream keys against one key: cold start, CPU per event, delay, time to first byte",
        "procedure": "fc",
        "systems": {"keys-1": {"env": KEY1}, "keys-3": {"env": KEYS3}},
        "load": {"cold": "spawn, listening, POST /initialize, first proxied 200; 7 alternating per path",
                 "stream": ["client", "--streams", "{level}", "--events", "100", *POOL_CLIENT]},
        "phases": ["cold", "stream"], "transports": ["tls"], "levels": [25, 100], "quick_levels": [25],
        "metrics": ["delay_p50_ms", "delay_p99_ms", "ttfb_p50_ms", "ttfb_p99_ms", "cpu_us_per_event", "throttled",
                    "completed", "peak_mb"],
        "token": TOKENS[0], "subject": "keys-3", "baseline": "keys-1",
        "args": [], "latest": "keypool", "minutes": 6,
    },
    "failover": {
        **FC_SHAPED,
        "what": "what a failover adds to the first byte: the pool's first key answers 429 (it rests until its reset, "
                "1 s), against a pool of healthy keys; streams by whether they failed over",
        "procedure": "fc",
        "systems": {"healthy": {"env": {**KEYS3, "OPENAI_API_KEYS": "k2=sk-bench-key-2,k3=sk-bench-key-3,k4=sk-bench-key-4"}},
                    "key-1-limited": {"env": KEYS3}},
        "upstream": ["upstream", "--events", "100", "--interval-ms", "20", "--key-behaviour", "sk-bench-key-1=429",
                     "--rate-limit-reset-ms", "1000"],
        "load": {"stream": ["client", "--streams", "{level}", "--events", "5", "--request-ids", "on", *POOL_CLIENT]},
        "phases": ["stream"], "transports": ["tls"], "levels": [120], "quick_levels": [60],
        "metrics": ["ttfb_p50_ms", "ttfb_p99_ms", "ttfb_first_try_p50_ms", "ttfb_failed_over_p50_ms",
                    "ttfb_failed_over_p99_ms", "ttfb_failed_over_max_ms", "completed"],
        "token": TOKENS[0], "subject": "key-1-limited", "baseline": "healthy",
        # Streams spread over a minute: a limited key rests a second after each 429, so failovers come about once a
        # second, each from a subject whose turn on key 1 came round again.
        "args": ["--ramp-ms", "60000", "--rounds", "3"], "latest": "failover", "minutes": 8,
    },
    "heartbeat": {
        **FC_SHAPED,
        "what": "SSE heartbeats under load: quiet streams (40 s of upstream silence) among streams relaying events, "
                "heartbeat every 5 s against none; the gaps the client sees",
        "procedure": "fc",
        "systems": {"heartbeat-5s": {"env": {"SSE_HEARTBEAT": "5s"}}, "heartbeat-off": {"env": {"SSE_HEARTBEAT": "off"}}},
        "load": {"stream": ["client", "--streams", "{level}", "--events", "450", "--interval-ms", "100",
                            "--quiet-ms", "40000", "--quiet-streams", "10"]},
        "phases": ["stream"], "transports": ["tls"], "levels": [100, 200], "quick_levels": [100],
        "metrics": ["heartbeat_gap_p50_ms", "heartbeat_gap_p99_ms", "heartbeat_gap_max_ms", "quiet_max_silence_max_ms",
                    "delay_p99_ms", "cpu_us_per_event", "throttled", "completed"],
        "subject": "heartbeat-5s", "baseline": "heartbeat-off",
        "args": ["--rounds", "2"], "latest": "heartbeat", "minutes": 8,
    },
    "startup": {
        **FC_SHAPED,
        "what": "cold start phase by phase: FC's sequence with the proxy's FCHANDLER_STARTUP_TRACE milestones inside it; "
                "A/B of builds or zips with -- --variant 'NAME:bin=B.zip'",
        "procedure": "fc",
        "systems": {"nginx-tuned": {"nginx": "tuned.conf"}, "fc-aot": {"env": {"FCHANDLER_STARTUP_TRACE": "1"}}},
        "load": {"cold": "spawn, listening, POST /initialize, first proxied 200; 11 alternating per path"},
        "phases": ["cold"],
        "metrics": ["wall and CPU ms per start-up phase", "spawn to first proxied 200"],
        "args": ["--cold-reps", "11"], "latest": None, "minutes": 4,
    },
}

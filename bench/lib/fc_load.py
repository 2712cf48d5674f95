#!/usr/bin/env python3
"""The load side of bench/lib/fc_limits.py: HTTP/1.1 traffic on raw asyncio sockets, every outcome classified.

    /usr/bin/python3 bench/lib/fc_load.py --port P --seconds S --out FILE [traffic options]

bench/lib/fc_limits.py starts it on CPU 0 in the load side's cgroup (bench/lib/fc.py's load_side) against the proxy under
test. Each kind of traffic runs in its own loop for --seconds; then the operations in flight finish (each has its own
deadline) and one JSON object is written: counts of every outcome per kind and per minute, the unexpected ones with a
few details, per-event delays of the streams, upload times, and when each kind of slow connection was answered.

Kinds (all off unless asked for):
  --streams C           C streaming chat completions at all times, each followed by the next (closed loop)
  --faults-every S      one fault every S seconds, in turn: an upstream 429, an upstream 500, a stream the upstream
                        drops midway, a stream whose first byte is slow, a stream the client aborts, a small request
  --uploads U           U uploads (POST /v1/files, multipart) at all times, --upload-mb each, --upload-pause-s apart;
                        every --upload-abort-every'th is abandoned by the client halfway
  --bursts N            N small chat completions at once, every --burst-every-s, each on a new connection
  --idle/--trickle-headers/--trickle-body N   slow connections opened over --slow-ramp-s at the start: idle ones
                        send nothing; the others send their headers, or a body, a few bytes a second, below Kestrel's
                        minimum rate; --trickle-every-s S opens one of each trickling kind every S seconds instead
  --rate R              R small chat completions a second (with --max-tokens), due at fixed times whatever the answers
                        (open loop), each on an idle kept-alive connection of a pool of at most --pool connections, as an
                        SDK's pool sends them; each one's latency counts from when it was due
--token T is the bearer token every request sends (sk-bench, a client's own key, unless given: an access token for a
proxy in server-key mode).

Per-event delay: arrival here (time.monotonic_ns, CLOCK_MONOTONIC) minus the stamp the fake upstream put in the event
(its Stopwatch, the same clock): what bench/StreamBench measures.

Outcomes. Expected: "ok" (complete, as asked), "upstream_429"/"upstream_500" (the fault the upstream was asked for,
passed through with its body), "dropped_by_upstream" (the stream the upstream cut: the client saw the connection end
before the body's end), "client_aborted" (this client gave up on purpose), "timeout_408" (a trickling client answered
408), "closed_slow" (a trickling client cut off without an answer, after the client timeout), "closed_idle" (an idle
connection closed by the proxy), "open_at_end" (an idle connection the proxy had not closed when its hold ended),
"temp_storage_full" (503 temp_storage_full: the proxy's temporary-storage budget refused an upload). Anything else is
unexpected and named: another status, a stream that ended without [DONE] though nobody cut it, a reset, a timeout.
"""
import argparse
import asyncio
import json
import socket
import sys
import time
from array import array

EXPECTED = ("ok", "upstream_429", "upstream_500", "dropped_by_upstream", "client_aborted", "timeout_408",
            "closed_slow", "closed_idle", "open_at_end", "temp_storage_full")
CONNECT_TIMEOUT_S = 10.0
SLACK_S = 30.0  # on top of an operation's own duration, before it counts as hung
BOUNDARY = "fcbench0boundary"


def now_s():
    return time.monotonic()


class Response:
    """An incremental HTTP/1.1 response parser: the head, then a Content-Length, chunked or close-delimited body.
    With sse=True the body is read as server-sent events: each event's delay is recorded, [DONE] is noted."""

    def __init__(self, sse=False):
        self.sse, self.buf = sse, bytearray()
        self.status, self.headers, self.body = None, {}, bytearray()
        self.complete = self.done = False
        self.events = 0
        self.delays_us = []
        self._length = self._chunk = None  # body bytes left: by Content-Length, in the current chunk
        self._chunked = False
        self._line = bytearray()

    def feed(self, data, arrived_ns):
        self.buf += data
        if self.status is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
            del self.buf[:end + 4]
            self.status = int(lines[0].split(" ", 2)[1])
            self.headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
            self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
            if "content-length" in self.headers:
                self._length = int(self.headers["content-length"])
                self.complete = self._length == 0
        while self.buf and not self.complete:
            if self._chunked:
                if self._chunk is None:
                    end = self.buf.find(b"\r\n")
                    if end < 0:
                        return
                    size = int(bytes(self.buf[:end]).split(b";")[0], 16)
                    del self.buf[:end + 2]
                    if size == 0:
                        self.complete = True
                        return
                    self._chunk = size
                if len(self.buf) < self._chunk + 2:
                    if len(self.buf) > self._chunk:
                        return
                    take = len(self.buf)
                    self._body(self.buf[:take], arrived_ns)
                    del self.buf[:take]
                    self._chunk -= take
                    return
                self._body(self.buf[:self._chunk], arrived_ns)
                del self.buf[:self._chunk + 2]
                self._chunk = None
            else:
                take = len(self.buf) if self._length is None else min(len(self.buf), self._length)
                self._body(self.buf[:take], arrived_ns)
                del self.buf[:take]
                if self._length is not None:
                    self._length -= take
                    self.complete = self._length == 0

    def _body(self, data, arrived_ns):
        if not self.sse:
            if len(self.body) < 65536:
                self.body += data
            return
        self._line += data
        while True:
            end = self._line.find(b"\n")
            if end < 0:
                return
            line = bytes(self._line[:end])
            del self._line[:end + 1]
            if line.startswith(b"data: [DONE]"):
                self.done = True
            elif line.startswith(b"data:"):
                at = line.find(b'"t":')
                if at >= 0:
                    stop = at + 4
                    while stop < len(line) and 48 <= line[stop] <= 57:
                        stop += 1
                    self.delays_us.append((arrived_ns - int(line[at + 4:stop])) / 1000)
                    self.events += 1


class Load:
    def __init__(self, args):
        self.args, self.loop = args, asyncio.get_running_loop()
        self.t0 = now_s()
        self.end = self.t0 + args.seconds
        self.outcomes = {}  # kind -> label -> count
        self.minutes = {}  # minute -> {"expected", "unexpected", "labels": {}, "delays": [...]}
        self.samples = []  # details of unexpected outcomes, the first ones
        self.delays = array("f")
        self.uploads = []  # seconds per completed upload
        self.paced_ms = array("f")  # --rate: latency of each ok answer, from when its request was due
        self.paced_connections = 0
        self.slow = {"planned": 0, "opened": 0, "connect_failed": 0, "all_open_at": None, "answered_s": {},
                     "last_answer_at": {}}
        self.marks = []  # (seconds since start, what)
        self.tasks = set()
        self._payloads = {}

    # ------------------------------------------------------------ bookkeeping

    def record(self, kind, label, detail="", delays=(), seconds=None):
        expected = label in EXPECTED
        by_kind = self.outcomes.setdefault(kind, {})
        by_kind[label] = by_kind.get(label, 0) + 1
        minute = self.minutes.setdefault(int((now_s() - self.t0) // 60), {"expected": 0, "unexpected": 0, "labels": {},
                                                                          "delays": array("f")})
        minute["expected" if expected else "unexpected"] += 1
        key = f"{kind}: {label}"
        minute["labels"][key] = minute["labels"].get(key, 0) + 1
        minute["delays"].extend(delays)
        self.delays.extend(delays)
        if not expected and len(self.samples) < 40:
            self.samples.append(f"{now_s() - self.t0:7.1f}s {kind}: {label} {detail}".rstrip())
        if seconds is not None and kind.startswith(("trickle", "idle")):
            self.slow["answered_s"].setdefault(f"{kind}: {label}", []).append(round(seconds, 2))
            self.slow["last_answer_at"][kind] = round(now_s() - self.t0, 2)  # since the start of the run

    def opened(self):
        self.slow["opened"] += 1
        if self.slow["opened"] == self.slow["planned"]:
            self.slow["all_open_at"] = round(now_s() - self.t0, 2)
            self.mark(f"all {self.slow['planned']} slow connections open")

    def mark(self, what):
        self.marks.append((round(now_s() - self.t0, 2), what))

    def spawn(self, coro):
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def connect(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await asyncio.wait_for(self.loop.sock_connect(sock, ("127.0.0.1", self.args.port)), CONNECT_TIMEOUT_S)
        except BaseException:
            sock.close()
            raise
        return sock

    def head(self, path, length, content_type="application/json", extra=""):
        return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.args.port}\r\nAuthorization: Bearer {self.args.token}\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n{extra}\r\n").encode()

    def chat(self, **fields):
        body = {"model": "gpt-4o-mini", **fields, "messages": [{"role": "user", "content": "Say hello."}]}
        data = json.dumps(body, separators=(",", ":")).encode()
        accept = "Accept: text/event-stream\r\n" if fields.get("stream") else ""
        return self.head("/v1/chat/completions", len(data), extra=accept) + data

    async def exchange(self, sock, resp, deadline_s, stop_after_events=None):
        """Reads into resp until the body is complete, the peer closes, or stop_after_events events have arrived.
        Returns how it ended: "complete", "closed", "reset", "timeout" or "stopped"."""
        try:
            async with asyncio.timeout(deadline_s):
                while not resp.complete:
                    data = await self.loop.sock_recv(sock, 65536)
                    arrived = time.monotonic_ns()
                    if not data:
                        return "closed"
                    resp.feed(data, arrived)
                    if stop_after_events is not None and resp.events >= stop_after_events:
                        return "stopped"
            return "complete"
        except TimeoutError:
            return "timeout"
        except (ConnectionResetError, BrokenPipeError):
            return "reset"

    # ------------------------------------------------------------ operations

    async def stream(self, kind, fault=None, abort_after=None, delay_ms=None):
        a = self.args
        events, interval = a.stream_events, a.stream_interval_ms
        fields = {"stream": True, "events": events, "interval_ms": interval}
        if fault:
            fields["fault"] = fault
        if delay_ms:
            fields["delay_ms"] = delay_ms
        try:
            sock = await self.connect()
        except OSError as e:
            return self.record(kind, "connect failed", repr(e))
        resp = Response(sse=True)
        try:
            await self.loop.sock_sendall(sock, self.chat(**fields))
            deadline = (events * interval + (delay_ms or 0)) / 1000 + SLACK_S
            how = await self.exchange(sock, resp, deadline, abort_after)
        except OSError as e:
            how = f"error {e!r}"
        finally:
            sock.close()
        detail = f"after {resp.events}/{events} events ({how})"
        if resp.status is None:
            label = {"closed": "closed before the response", "reset": "reset before the response",
                     "timeout": "no response (timed out)"}.get(how, how)
        elif resp.status != 200:
            label = f"status {resp.status}"
        elif abort_after is not None and how == "stopped":
            label = "client_aborted"
        elif fault == "drop":
            label = "drop arrived complete" if resp.complete or resp.done else (
                "dropped_by_upstream" if how in ("closed", "reset") else f"drop: {how}")
        elif how == "complete" and resp.done and resp.events == events:
            label = "ok"
        elif how == "complete":
            label = "ended without [DONE]" if not resp.done else "events missing"
        else:
            label = {"closed": "cut off midway (closed)", "reset": "cut off midway (reset)",
                     "timeout": "stalled (timed out)"}.get(how, how)
        self.record(kind, label, detail, resp.delays_us)

    async def small(self, kind, fault=None):
        try:
            sock = await self.connect()
        except OSError as e:
            return self.record(kind, "connect failed", repr(e))
        resp = Response()
        try:
            await self.loop.sock_sendall(sock, self.chat(**({"fault": fault} if fault else {})))
            how = await self.exchange(sock, resp, SLACK_S)
        except OSError as e:
            how = f"error {e!r}"
        finally:
            sock.close()
        body = bytes(resp.body)
        if resp.status is None or how != "complete":
            label = f"no complete response ({how})"
        elif fault and resp.status == int(fault) and b"(fake upstream)" in body:
            label = f"upstream_{fault}"
        elif not fault and resp.status == 200 and b'"chat.completion"' in body:
            label = "ok"
        else:
            label = f"status {resp.status}"
        self.record(kind, label, body[:160].decode("latin-1"))

    def payload(self, size):
        """A multipart upload of exactly size bytes: a purpose field and a JSONL file. Built once per size."""
        if size not in self._payloads:
            head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{BOUNDARY}\r\n"
                    f"Content-Disposition: form-data; name=\"file\"; filename=\"upload.jsonl\"\r\n"
                    f"Content-Type: application/jsonl\r\n\r\n").encode()
            tail = f"\r\n--{BOUNDARY}--\r\n".encode()
            line = b'{"custom_id":"r","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini"}}\n'
            room = size - len(head) - len(tail)
            self._payloads[size] = head + (line * (room // len(line) + 1))[:room] + tail
        return self._payloads[size]

    async def upload(self, kind, size, abort=False):
        body = self.payload(size)
        t0 = now_s()
        try:
            sock = await self.connect()
        except OSError as e:
            return self.record(kind, "connect failed", repr(e))
        resp, how = Response(), None
        deadline = size / self.args.upload_min_rate + SLACK_S
        try:
            try:
                async with asyncio.timeout(deadline):
                    head = self.head("/v1/files", len(body), f"multipart/form-data; boundary={BOUNDARY}")
                    await self.loop.sock_sendall(sock, head)
                    await self.loop.sock_sendall(sock, memoryview(body)[:len(body) // 2] if abort else body)
            except TimeoutError:
                how = "send timed out"
            except (ConnectionResetError, BrokenPipeError):
                pass  # the proxy may have answered before the end of the body: read what it said
            if abort:
                return self.record(kind, "client_aborted")
            if how is None:
                how = await self.exchange(sock, resp, deadline)
        except OSError as e:
            how = f"error {e!r}"
        finally:
            sock.close()
        text = bytes(resp.body).decode("latin-1")
        if resp.status == 200 and f'"bytes":{len(body)},' in text:
            self.uploads.append(now_s() - t0)
            label = "ok"
        elif resp.status == 503 and "temp_storage_full" in text:
            label = "temp_storage_full"
        elif resp.status == 200:
            label = "wrong size arrived"
        else:
            label = f"status {resp.status}" if resp.status else f"no response ({how})"
        self.record(kind, label, text[:160])

    async def idle(self, hold_s):
        t0 = now_s()
        try:
            sock = await self.connect()
        except OSError as e:
            self.slow["connect_failed"] += 1
            return self.record("idle", "connect failed", repr(e))
        self.opened()
        try:
            async with asyncio.timeout(hold_s):
                data = await self.loop.sock_recv(sock, 4096)
            label = "closed_idle" if not data else f"unasked data {data[:40]!r}"
        except TimeoutError:
            label = "open_at_end"
        except ConnectionResetError:
            label = "closed_idle"
        finally:
            sock.close()
        self.record("idle", label, seconds=now_s() - t0)

    async def trickle(self, kind, body_size=0):
        """Headers (kind trickle-headers) or a body (trickle-body) at --trickle-bytes every second."""
        a = self.args
        t0 = now_s()
        try:
            sock = await self.connect()
        except OSError as e:
            self.slow["connect_failed"] += 1
            return self.record(kind, "connect failed", repr(e))
        self.opened()
        if kind == "trickle-headers":
            start = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{a.port}\r\n"
                     "Content-Type: application/json\r\nX-Trickle: ").encode()
            drip = b"a" * a.trickle_bytes
        else:
            start = self.head("/v1/chat/completions", body_size)
            drip = b" " * a.trickle_bytes
        resp, how = Response(), "not cut off"
        try:
            await self.loop.sock_sendall(sock, start)
            async with asyncio.timeout(a.client_timeout_s + SLACK_S):
                while True:
                    try:
                        data = await asyncio.wait_for(self.loop.sock_recv(sock, 4096), 1.0)
                    except TimeoutError:
                        try:
                            await self.loop.sock_sendall(sock, drip)
                        except (BrokenPipeError, ConnectionResetError):
                            pass  # cut off: the answer, if any, is still to be read
                        continue
                    if not data:
                        how = "closed"
                        break
                    resp.feed(data, time.monotonic_ns())
                    if resp.status is not None:
                        how = "answered"
                        break
        except TimeoutError:
            pass
        except ConnectionResetError:
            how = "reset"
        finally:
            sock.close()
        seconds = now_s() - t0
        if resp.status == 408:
            label = "timeout_408"
        elif resp.status is not None:
            label = f"status {resp.status}"
        elif how in ("closed", "reset"):
            label = "closed_slow" if seconds >= a.client_timeout_s - 1 else f"{how} early"
        else:
            label = how
        self.record(kind, label, f"after {seconds:.1f}s", seconds=seconds)

    async def paced(self, due, pool):
        """One paced chat completion on a kept-alive connection of the pool (a new one while the pool has room, else the
        next to come free); its latency counts from when it was due."""
        if pool.empty() and self.paced_connections < self.args.pool:
            self.paced_connections += 1
            try:
                sock = await self.connect()
            except OSError as e:
                self.paced_connections -= 1
                return self.record("paced", "connect failed", repr(e))
        else:
            sock = await pool.get()
        resp = Response()
        try:
            await self.loop.sock_sendall(sock, self.chat(max_tokens=self.args.max_tokens))
            how = await self.exchange(sock, resp, SLACK_S)
        except OSError as e:
            how = f"error {e!r}"
        latency_ms = (now_s() - due) * 1000
        body = bytes(resp.body)
        if resp.status is None or how != "complete":
            label = f"no complete response ({how})"
        elif resp.status == 200 and b'"chat.completion"' in body:
            label = "ok"
            self.paced_ms.append(latency_ms)
        else:
            label = f"status {resp.status}"
        if how == "complete" and resp.headers.get("connection", "").lower() != "close":
            pool.put_nowait(sock)  # kept alive for the next one
        else:
            sock.close()
            self.paced_connections -= 1
        self.record("paced", label, body[:160].decode("latin-1"))

    # ------------------------------------------------------------ loops

    def running(self):
        return now_s() < self.end

    async def stream_loop(self):
        while self.running():
            await self.stream("stream")

    async def fault_loop(self):
        faults = [lambda: self.small("error", "429"), lambda: self.small("error", "500"),
                  lambda: self.stream("stream-dropped", fault="drop"),
                  lambda: self.stream("stream-slow-start", fault="slow", delay_ms=self.args.slow_first_byte_ms),
                  lambda: self.stream("stream-aborted", abort_after=self.args.stream_events // 3),
                  lambda: self.small("small")]
        i = 0
        while self.running():
            self.spawn(faults[i % len(faults)]())
            i += 1
            await asyncio.sleep(self.args.faults_every)

    async def upload_loop(self, worker):
        i = worker
        size = int(self.args.upload_mb * 2**20)
        while self.running():
            i += 1
            every = self.args.upload_abort_every
            await self.upload("upload-aborted" if every and i % every == 0 else "upload", size,
                              abort=bool(every and i % every == 0))
            await asyncio.sleep(self.args.upload_pause_s)

    async def burst_loop(self):
        while self.running():
            await asyncio.gather(*(self.small("burst") for _ in range(self.args.bursts)))
            await asyncio.sleep(self.args.burst_every_s)

    async def slow_wave(self):
        a = self.args
        # Interleaved, so that every kind is opened across the whole ramp.
        plan = sorted((j / n, kind) for kind, n in (("idle", a.idle), ("trickle-headers", a.trickle_headers),
                                                    ("trickle-body", a.trickle_body)) for j in range(n))
        hold = a.idle_hold_s if a.idle_hold_s else max(1.0, self.end - now_s())
        self.slow["planned"] = len(plan)
        started = now_s()
        for n, (_, kind) in enumerate(plan):
            due = started + a.slow_ramp_s * n / len(plan)
            if due > now_s():
                await asyncio.sleep(due - now_s())
            self.spawn(self.slow_one(kind, n, hold))
        self.mark(f"{len(plan)} slow connections started")

    def slow_one(self, kind, n, hold):
        if kind == "idle":
            return self.idle(hold)
        # Bodies alternately below and above the proxy's 64 KB in-memory buffer, so both ways of buffering are held.
        return self.trickle(kind, body_size=20_000 if n % 2 else 200_000)

    async def paced_loop(self):
        pool = asyncio.LifoQueue()  # the most recently used connection first, as a pool keeps its warm ones
        start, n = now_s(), 0
        while True:
            due = start + n / self.args.rate
            if due >= self.end:
                break
            if due > now_s():
                await asyncio.sleep(due - now_s())
            self.spawn(self.paced(due, pool))
            n += 1
        while self.tasks:  # every paced request answered before the pool's connections close
            await asyncio.gather(*list(self.tasks))
        while not pool.empty():
            pool.get_nowait().close()

    async def trickle_loop(self):
        n = 0
        while self.running():
            self.spawn(self.trickle("trickle-headers"))
            self.spawn(self.trickle("trickle-body", body_size=20_000 if n % 2 else 200_000))
            n += 1
            await asyncio.sleep(self.args.trickle_every_s)

    async def run(self):
        a = self.args
        loops = [self.stream_loop() for _ in range(a.streams)]
        if a.faults_every:
            loops.append(self.fault_loop())
        loops += [self.upload_loop(w) for w in range(a.uploads)]
        if a.bursts:
            loops.append(self.burst_loop())
        if a.idle or a.trickle_headers or a.trickle_body:
            loops.append(self.slow_wave())
        if a.trickle_every_s:
            loops.append(self.trickle_loop())
        if a.rate:
            loops.append(self.paced_loop())
        self.mark("start")
        await asyncio.gather(*loops)
        self.mark("load ended; waiting for the operations in flight")
        while self.tasks:
            await asyncio.gather(*list(self.tasks))
        self.mark("end")

    def result(self):
        def pct(values, p):
            if not len(values):
                return None
            s = sorted(values)
            return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] / 1000

        expected = sum(n for kind in self.outcomes.values() for label, n in kind.items() if label in EXPECTED)
        unexpected = sum(n for kind in self.outcomes.values() for label, n in kind.items() if label not in EXPECTED)
        minutes = []
        for m in sorted(self.minutes):
            v = self.minutes[m]
            minutes.append({"minute": m, "expected": v["expected"], "unexpected": v["unexpected"],
                            "labels": v["labels"],
                            "events": len(v["delays"]), "delay_p50_ms": pct(v["delays"], 50),
                            "delay_p99_ms": pct(v["delays"], 99),
                            "delay_max_ms": max(v["delays"]) / 1000 if len(v["delays"]) else None})
        return {"t0": self.t0, "seconds": round(now_s() - self.t0, 2), "outcomes": self.outcomes,
                "expected": expected, "unexpected": unexpected, "unexpected_samples": self.samples,
                "events": len(self.delays), "delay_p50_ms": pct(self.delays, 50), "delay_p99_ms": pct(self.delays, 99),
                "delay_max_ms": max(self.delays) / 1000 if len(self.delays) else None,
                "uploads_s": [round(s, 2) for s in self.uploads], "slow": self.slow, "marks": self.marks,
                "paced_ms": [round(x, 3) for x in self.paced_ms], "paced_connections": self.paced_connections,
                "minutes": minutes, "config": {k: v for k, v in vars(self.args).items() if k != "out"}}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--streams", type=int, default=0)
    ap.add_argument("--stream-events", type=int, default=100)
    ap.add_argument("--stream-interval-ms", type=int, default=50)
    ap.add_argument("--faults-every", type=float, default=0)
    ap.add_argument("--slow-first-byte-ms", type=int, default=3000)
    ap.add_argument("--uploads", type=int, default=0)
    ap.add_argument("--upload-mb", type=float, default=32)
    ap.add_argument("--upload-pause-s", type=float, default=0)
    ap.add_argument("--upload-abort-every", type=int, default=0)
    ap.add_argument("--upload-min-rate", type=float, default=256 * 1024, help="bytes/s below which an upload has hung")
    ap.add_argument("--bursts", type=int, default=0)
    ap.add_argument("--burst-every-s", type=float, default=5)
    ap.add_argument("--idle", type=int, default=0)
    ap.add_argument("--trickle-headers", type=int, default=0)
    ap.add_argument("--trickle-body", type=int, default=0)
    ap.add_argument("--trickle-every-s", type=float, default=0)
    ap.add_argument("--trickle-bytes", type=int, default=10, help="sent each second: far below 240 bytes/s")
    ap.add_argument("--slow-ramp-s", type=float, default=10)
    ap.add_argument("--idle-hold-s", type=float, default=0, help="0: until --seconds have passed")
    ap.add_argument("--client-timeout-s", type=float, default=15, help="the proxy's CLIENT_TIMEOUT")
    ap.add_argument("--rate", type=float, default=0, help="paced chat completions a second (open loop)")
    ap.add_argument("--max-tokens", type=int, default=16, help="the output cap of each paced request")
    ap.add_argument("--pool", type=int, default=100, help="kept-alive connections of the paced requests, at most")
    ap.add_argument("--token", default="sk-bench", help="the bearer token every request sends")
    args = ap.parse_args()

    async def go():
        load = Load(args)
        await load.run()
        return load.result()

    result = asyncio.run(go())
    with open(args.out, "w") as f:
        json.dump(result, f)
    print(f"expected {result['expected']} unexpected {result['unexpected']} {result['outcomes']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

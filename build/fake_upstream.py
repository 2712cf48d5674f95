#!/usr/bin/env python3
"""Fake OpenAI upstream and the client checks for build/debian11-proof.sh (standard library only).

  fake_upstream.py serve --port N [--cert FILE --key FILE]
      Serves POST /v1/chat/completions on 127.0.0.1: a JSON completion, or with "stream": true a
      server-sent-event stream in chunked encoding, one event every 150 ms, then "data: [DONE]".
      With --cert/--key it speaks TLS. Threaded, so streams and probes run side by side.

  fake_upstream.py check --url URL
      One plain and one streaming chat completion through the proxy; checks the bodies come from the
      fake upstream and that the stream arrives incrementally (first event well before the last).
"""
import argparse
import http.client
import http.server
import json
import socketserver
import ssl
import sys
import time
import urllib.parse

STREAM_EVENTS = 5
STREAM_DELAY_S = 0.15
MARKER = "fake-upstream"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep the proof's output short
        pass

    def _send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/v1/models":
            self._send_json(200, {"object": "list", "data": [{"id": "gpt-fake", "object": "model"}]})
        else:
            self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(400, {"error": {"message": "bad json", "type": "invalid_request_error"}})
            return
        if not req.get("stream"):
            self._send_json(200, {
                "id": "chatcmpl-" + MARKER, "object": "chat.completion", "model": req.get("model", "gpt-fake"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}],
            })
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(data: bytes):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        for i in range(STREAM_EVENTS):
            event = {"id": "chatcmpl-" + MARKER, "object": "chat.completion.chunk",
                     "choices": [{"index": 0, "delta": {"content": f"t{i}"}, "finish_reason": None}]}
            chunk(b"data: " + json.dumps(event).encode() + b"\n\n")
            time.sleep(STREAM_DELAY_S)
        chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(args):
    httpd = Server(("127.0.0.1", args.port), Handler)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    print(f"fake upstream on {'https' if args.cert else 'http'}://127.0.0.1:{args.port}", flush=True)
    httpd.serve_forever()


def _post(url, payload, timeout=30):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    conn.request("POST", u.path, body=json.dumps(payload),
                 headers={"Content-Type": "application/json", "Authorization": "Bearer sk-proof-client"})
    return conn, conn.getresponse()


def check(args):
    conn, resp = _post(args.url, {"model": "gpt-fake", "messages": [{"role": "user", "content": "ping"}]})
    body = resp.read()
    conn.close()
    if resp.status != 200 or MARKER.encode() not in body or b"pong" not in body:
        print(f"plain: HTTP {resp.status}, body {body[:300]!r}", file=sys.stderr)
        return 1
    print("    plain completion: 200, body from the fake upstream")

    start = time.monotonic()
    conn, resp = _post(args.url, {"model": "gpt-fake", "stream": True,
                                  "messages": [{"role": "user", "content": "ping"}]})
    if resp.status != 200 or not resp.getheader("Content-Type", "").startswith("text/event-stream"):
        print(f"stream: HTTP {resp.status}, Content-Type {resp.getheader('Content-Type')}", file=sys.stderr)
        return 1
    first_at, data = None, b""
    while True:
        piece = resp.read1(65536)
        if not piece:
            break
        if first_at is None:
            first_at = time.monotonic() - start
        data += piece
    total = time.monotonic() - start
    conn.close()
    events = [line for line in data.decode().split("\n") if line.startswith("data: ")]
    expected = STREAM_EVENTS + 1
    if len(events) != expected or events[-1] != "data: [DONE]" or resp.getheader("Content-Length"):
        print(f"stream: {len(events)} events (want {expected}), last {events[-1:]!r}, "
              f"Content-Length {resp.getheader('Content-Length')}", file=sys.stderr)
        return 1
    # The upstream spends (events-1) * delay between its first and last event; a buffering proxy
    # would deliver everything at once at the end.
    if first_at is None or total - first_at < (STREAM_EVENTS - 2) * STREAM_DELAY_S:
        print(f"stream: first bytes at {first_at:.3f}s, end at {total:.3f}s: the proxy buffered the stream",
              file=sys.stderr)
        return 1
    print(f"    streaming completion: 200, {len(events)} SSE events, first after {first_at * 1000:.0f} ms, "
          f"last after {total * 1000:.0f} ms (not buffered)")
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--cert")
    s.add_argument("--key")
    k = sub.add_parser("check")
    k.add_argument("--url", required=True)
    args = p.parse_args()
    if args.cmd == "serve":
        serve(args)
        return 0
    return check(args)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A loopback HTTP proxy that injects the faults AWS produces at scale, at random (seeded).

Per request to SQS or EventBridge (JSON protocols, by X-Amz-Target):
  --throttle P      refused with 400 ThrottlingException; nothing happens upstream
  --error P         answered 500 InternalFailure; half of them after forwarding (the request
                    took effect and the client cannot know), half before
  --drop P          forwarded, then the connection is closed with no answer (took effect)
  --entry-fail P    a batch call (PutEvents, DeleteMessageBatch, ChangeMessageVisibilityBatch,
                    SendMessageBatch) has 1 to 3 of its entries failed in a 200 answer: those
                    entries are not forwarded and come back ThrottlingException/InternalFailure
                    (PutEvents) or InternalError with SenderFault false (SQS)
Other requests (the health check, anything without X-Amz-Target) pass unchanged.

It counts what it did, and in particular the entries of PutEvents calls that took effect but
were answered 500 or dropped ("ambiguous puts"): the only duplicates no client can avoid. The
counters are written as JSON to --stats-file on SIGTERM/SIGINT and on SIGUSR1.

Usage: fault_proxy.py --listen-port P --upstream-port U [--seed S] [--throttle 0.05]
       [--error 0.05] [--drop 0.01] [--entry-fail 0.10] [--ready-file F] [--stats-file F]
Binds 127.0.0.1 only.
"""

import argparse
import http.client
import http.server
import json
import random
import signal
import socketserver
import sys
import threading

STATS = {
    "requests": 0,
    "throttled": 0,
    "error_before": 0,
    "error_after": 0,
    "dropped_after": 0,
    "entry_failed_calls": 0,
    "entries_failed": 0,
    "ambiguous_put_entries": 0,
    "ambiguous_delete_entries": 0,
}
LOCK = threading.Lock()
BATCH = {
    "AWSEvents.PutEvents",
    "AmazonSQS.DeleteMessageBatch",
    "AmazonSQS.ChangeMessageVisibilityBatch",
    "AmazonSQS.SendMessageBatch",
}


def count(key, n=1):
    with LOCK:
        STATS[key] += n


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream_port = 0
    rates = {}
    rng = random.Random(0)

    def log_message(self, *_):
        pass

    def roll(self, kind):
        with LOCK:
            return self.rng.random() < self.rates[kind]

    def do_GET(self):
        self.relay(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = self.headers.get("X-Amz-Target", "")
        if not target:
            return self.relay(body)
        count("requests")
        if self.roll("throttle"):
            count("throttled")
            return self.error(400, "ThrottlingException", "Rate exceeded")
        if self.roll("error"):
            with LOCK:
                after = self.rng.random() < 0.5
            if not after:
                count("error_before")
                return self.error(500, "InternalFailure", "injected before the request took effect")
            self.forward(body)
            count("error_after")
            self.ambiguous(target, body)
            return self.error(500, "InternalFailure", "injected after the request took effect")
        if self.roll("drop"):
            self.forward(body)
            count("dropped_after")
            self.ambiguous(target, body)
            self.close_connection = True
            return
        if target in BATCH and self.roll("entry_fail"):
            return self.fail_entries(target, body)
        self.relay(body)

    def ambiguous(self, target, body):
        entries = len(json.loads(body or b"{}").get("Entries", []))
        if target == "AWSEvents.PutEvents":
            count("ambiguous_put_entries", entries)
        elif target == "AmazonSQS.DeleteMessageBatch":
            count("ambiguous_delete_entries", entries)

    def forward(self, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=120)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
            conn.request(self.command, self.path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.getheaders(), r.read()
        finally:
            conn.close()

    def relay(self, body):
        status, headers, data = self.forward(body)
        self.answer(status, headers, data)

    def answer(self, status, headers, data):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, message):
        data = json.dumps({"__type": code, "message": message}).encode()
        self.answer(
            status,
            [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-errortype", code), ("x-amzn-requestid", "fault-proxy")],
            data,
        )

    def fail_entries(self, target, body):
        request = json.loads(body)
        entries = request.get("Entries", [])
        if not entries:
            return self.relay(body)
        with LOCK:
            k = self.rng.randint(1, min(3, len(entries)))
            failed = set(self.rng.sample(range(len(entries)), k))
        count("entry_failed_calls")
        count("entries_failed", len(failed))
        kept = [e for i, e in enumerate(entries) if i not in failed]
        answer = {}
        headers = [("Content-Type", "application/x-amz-json-1.1" if target.startswith("AWSEvents") else "application/x-amz-json-1.0")]
        if kept:
            status, upstream_headers, data = self.forward(json.dumps({**request, "Entries": kept}).encode())
            if status != 200:
                return self.answer(status, upstream_headers, data)
            answer = json.loads(data or b"{}")
        if target == "AWSEvents.PutEvents":
            results = iter(answer.get("Entries", []))
            merged = []
            for i in range(len(entries)):
                if i in failed:
                    code = "ThrottlingException" if i % 2 else "InternalFailure"
                    merged.append({"ErrorCode": code, "ErrorMessage": "injected entry failure"})
                else:
                    merged.append(next(results, {"ErrorCode": "InternalFailure", "ErrorMessage": "missing"}))
            answer = {"Entries": merged, "FailedEntryCount": sum(1 for r in merged if "ErrorCode" in r)}
        else:
            answer.setdefault("Successful", [])
            answer["Failed"] = answer.get("Failed", []) + [
                {"Id": entries[i]["Id"], "SenderFault": False, "Code": "InternalError", "Message": "injected entry failure"}
                for i in sorted(failed)
            ]
        self.answer(200, headers, json.dumps(answer).encode())


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen-port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--throttle", type=float, default=0.05)
    parser.add_argument("--error", type=float, default=0.05)
    parser.add_argument("--drop", type=float, default=0.01)
    parser.add_argument("--entry-fail", type=float, default=0.10)
    parser.add_argument("--ready-file")
    parser.add_argument("--stats-file")
    args = parser.parse_args()
    Handler.upstream_port = args.upstream_port
    Handler.rng = random.Random(args.seed)
    Handler.rates = {"throttle": args.throttle, "error": args.error, "drop": args.drop, "entry_fail": args.entry_fail}
    server = Server(("127.0.0.1", args.listen_port), Handler)

    def write_stats(*_):
        if args.stats_file:
            with LOCK:
                snapshot = dict(STATS)
            with open(args.stats_file, "w") as f:
                json.dump(snapshot, f)

    def stop(*_):
        write_stats()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGUSR1, write_stats)
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write(f"{args.listen_port}\n")
    print(f"fault-proxy: 127.0.0.1:{args.listen_port} -> 127.0.0.1:{args.upstream_port}, rates {Handler.rates}", file=sys.stderr, flush=True)
    server.serve_forever()
    print(f"fault-proxy: stopped; {STATS}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

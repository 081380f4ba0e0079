#!/usr/bin/env python3
"""Helpers of scripts/bench-redrive: set up and seed one case, redrive with a plain boto3 client
for reference, verify a case (lost / duplicated / left), and print the final table.

Every subcommand talks to one endpoint (LocalStack on loopback, or the delay proxy in front of
it) with the static test credentials. Run with the python of .venv-localstack (boto3 is there).

  bench.py setup     --endpoint URL --prefix P --messages N --out case.json
  bench.py reference --endpoint URL --case case.json --threads T --out ref.json
  bench.py verify    --endpoint URL --case case.json [--time F] [--report F] [--reference F]
                     [--label L] [--concurrency C] [--endpoint-cpu S] >> results.ndjson
  bench.py table     results.ndjson
  bench.py scan-reference --endpoint URL --case case.json --threads T --out ref.json
  bench.py depth     --endpoint URL --case case.json
"""

import argparse
import concurrent.futures as cf
import json
import os
import resource
import sys
import threading
import time
import uuid
from collections import Counter

import boto3
from botocore.config import Config

REGION = "us-east-1"
SOURCE = "ecomm.orders"
DETAIL_TYPE = "OrderCreated"
TARGET_ID = "bench"


def client(service, endpoint, pool=50):
    return boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
    ).client(
        service,
        endpoint_url=endpoint,
        config=Config(
            max_pool_connections=pool,
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        ),
    )


def log(msg):
    print(f"  bench.py: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# setup


def order_created_v2(i, event_id, account):
    """A full EventBridge envelope of an OrderCreated v2 event (docs/events.md)."""
    order_id = f"ord-b{i:07d}"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "2.0",
            "order": {
                "orderId": order_id,
                "totalAmount": 599.99,
                "currency": "USD",
                "items": [
                    {"sku": "sku-abc", "quantity": 2, "price": 199.99},
                    {"sku": "sku-def", "quantity": 1, "price": 200.01},
                ],
                "channel": "WEB",
            },
            "customer": {
                "userId": f"usr-{i % 997}",
                "email": f"bench{i}@example.com",
                "name": "Bench Customer",
                "shippingAddress": {
                    "line1": "12 St James Sq",
                    "city": "London",
                    "postalCode": "SW1Y 4JH",
                    "country": "GB",
                },
                "isRefundEligible": True,
            },
            "payment": {"method": "CARD", "status": "PAID"},
            "metadata": {
                "eventId": event_id,
                "correlationId": f"bench-{i}",
                "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
        },
    }


def queue_arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def depth(sqs, url):
    a = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def cmd_setup(args):
    sqs = client("sqs", args.endpoint)
    events = client("events", args.endpoint)
    p = args.prefix
    dlq_url = sqs.create_queue(QueueName=f"{p}-dlq")["QueueUrl"]
    sink_url = sqs.create_queue(QueueName=f"{p}-sink")["QueueUrl"]
    dlq_arn, sink_arn = queue_arn(sqs, dlq_url), queue_arn(sqs, sink_url)
    account = dlq_arn.split(":")[4]
    bus = f"{p}-bus"
    events.create_event_bus(Name=bus)
    rule_arn = events.put_rule(
        Name=f"{p}-rule",
        EventBusName=bus,
        EventPattern=json.dumps({"source": [SOURCE], "detail-type": [DETAIL_TYPE]}),
    )["RuleArn"]
    put = events.put_targets(
        Rule=f"{p}-rule",
        EventBusName=bus,
        Targets=[
            {
                "Id": TARGET_ID,
                "Arn": sink_arn,
                "DeadLetterConfig": {"Arn": dlq_arn},
                "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
            }
        ],
    )
    if put.get("FailedEntryCount"):
        sys.exit(f"put_targets failed: {put}")

    # Seed: SendMessageBatch of 10, from several threads, each entry checked.
    n = args.messages
    event_ids = [str(uuid.uuid4()) for _ in range(n)]
    attributes = {
        "RULE_ARN": {"DataType": "String", "StringValue": rule_arn},
        "TARGET_ARN": {"DataType": "String", "StringValue": sink_arn},
        "ERROR_CODE": {"DataType": "String", "StringValue": "THROTTLING"},
        "ERROR_MESSAGE": {
            "DataType": "String",
            "StringValue": "Event delivery to the target was throttled (benchmark seed).",
        },
        "EXHAUSTED_RETRY_CONDITION": {"DataType": "String", "StringValue": "MaximumRetryAttempts"},
        "RETRY_ATTEMPTS": {"DataType": "String", "StringValue": "185"},
    }
    local = threading.local()

    def send(start):
        if not hasattr(local, "sqs"):
            local.sqs = client("sqs", args.endpoint)
        entries = [
            {
                "Id": str(i - start),
                "MessageBody": json.dumps(order_created_v2(i, event_ids[i], account)),
                "MessageAttributes": attributes,
            }
            for i in range(start, min(start + 10, n))
        ]
        for _ in range(5):
            r = local.sqs.send_message_batch(QueueUrl=dlq_url, Entries=entries)
            failed = {f["Id"] for f in r.get("Failed", [])}
            if not failed:
                return len(r.get("Successful", []))
            entries = [e for e in entries if e["Id"] in failed]
        raise RuntimeError(f"SendMessageBatch kept failing: {r.get('Failed')}")

    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(args.threads) as pool:
        sent = sum(pool.map(send, range(0, n, 10)))
    seed_s = time.monotonic() - t0
    visible, in_flight = depth(sqs, dlq_url)
    if sent != n or visible != n or in_flight:
        sys.exit(f"seeding failed: sent {sent}, DLQ depth {visible} visible / {in_flight} in flight, wanted {n}")
    with open(args.out, "w") as f:
        json.dump(
            {
                "prefix": p,
                "bus": bus,
                "rule_arn": rule_arn,
                "dlq_url": dlq_url,
                "sink_url": sink_url,
                "messages": n,
                "event_ids": event_ids,
                "seed_seconds": round(seed_s, 2),
            },
            f,
        )
    log(f"seeded {n} messages into {p}-dlq in {seed_s:.1f}s ({n / seed_s:.0f} msg/s); DLQ depth {visible}")


# ---------------------------------------------------------------------------------------------
# reference: what the endpoint can take


class RawAws:
    """A lean client of the AWS JSON protocols: HTTP/1.1 with one connection per thread, kept
    open while the endpoint keeps it (the delay proxy does, as AWS does; LocalStack with
    hypercorn closes every connection, and then each request opens a new one), and no SigV4
    (LocalStack does not check signatures; the Authorization header only tells it the access
    key and region). botocore costs ~8 CPU ms per message here, enough to make the client, not
    the endpoint, the limit on a 2-core machine; this costs a fraction of that."""

    AUTH = (
        "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0"
    )

    def __init__(self, endpoint):
        from urllib.parse import urlsplit

        u = urlsplit(endpoint)
        self.host, self.port = u.hostname, u.port or 80
        self.local = threading.local()

    def call(self, service, target, version, payload):
        import http.client

        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": f"application/x-amz-json-{version}",
            "X-Amz-Target": target,
            "X-Amz-Date": "20260101T000000Z",
            "Authorization": self.AUTH.format(service=service),
        }
        for attempt in (1, 2):
            conn = getattr(self.local, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                conn.request("POST", "/", body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
            except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
                conn.close()
                self.local.conn = None
                if reused and attempt == 1:
                    continue  # the endpoint closed a kept connection between two requests
                raise
            if r.will_close:
                conn.close()
                self.local.conn = None
            break
        if r.status != 200:
            raise RuntimeError(f"{target}: HTTP {r.status}: {data[:300]!r}")
        return json.loads(data) if data else {}


def cmd_reference(args):
    case = json.load(open(args.case))
    dlq_url, bus, sink_url = case["dlq_url"], case["bus"], case["sink_url"]
    raw = RawAws(args.endpoint)
    counts = Counter()
    lock = threading.Lock()

    def worker(_):
        while True:
            receive = {"QueueUrl": dlq_url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 300, "WaitTimeSeconds": 1}
            if args.via == "queue":
                # What a DLQ mover (and ecomm) asks for: the attributes say what each message is.
                receive["MessageAttributeNames"] = ["All"]
                receive["MessageSystemAttributeNames"] = ["SentTimestamp", "ApproximateReceiveCount"]
            msgs = raw.call("sqs", "AmazonSQS.ReceiveMessage", "1.0", receive).get("Messages", [])
            if not msgs:
                return
            if args.via == "queue":
                # Queue to queue, as the SQS movers do: SendMessageBatch to the target queue.
                r = raw.call(
                    "sqs",
                    "AmazonSQS.SendMessageBatch",
                    "1.0",
                    {
                        "QueueUrl": sink_url,
                        "Entries": [{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(msgs)],
                    },
                )
                sent = {e["Id"] for e in r.get("Successful", [])}
                ok = [m for i, m in enumerate(msgs) if str(i) in sent]
            else:
                entries = []
                for m in msgs:
                    e = json.loads(m["Body"])
                    entries.append(
                        {
                            "EventBusName": bus,
                            "Source": e["source"],
                            "DetailType": e["detail-type"],
                            "Detail": json.dumps(e["detail"]),
                            "Resources": e.get("resources", []),
                        }
                    )
                r = raw.call("events", "AWSEvents.PutEvents", "1.1", {"Entries": entries})
                results = r.get("Entries", [])
                ok = [m for m, res in zip(msgs, results) if "EventId" in res and "ErrorCode" not in res]
            if ok:
                d = raw.call(
                    "sqs",
                    "AmazonSQS.DeleteMessageBatch",
                    "1.0",
                    {
                        "QueueUrl": dlq_url,
                        "Entries": [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(ok)],
                    },
                )
                with lock:
                    counts["deleted"] += len(d.get("Successful", []))
                    counts["delete_failed"] += len(d.get("Failed", []))
            with lock:
                counts["put_failed"] += len(msgs) - len(ok)

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(worker, range(args.threads)))
    wall = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    with open(args.out, "w") as f:
        json.dump({"wall": wall, "cpu": cpu, **counts}, f)
    log(f"reference: {counts['deleted']} redriven in {wall:.1f}s with {args.threads} threads; {dict(counts)}")


def cmd_scan_reference(args):
    """Read a whole DLQ without consuming it, as `ecomm dlq show` does: T threads receive
    (10 per call, hidden 300 s) until an empty long poll, then every message is released with
    ChangeMessageVisibilityBatch(0), T batches at a time."""
    case = json.load(open(args.case))
    dlq_url = case["dlq_url"]
    raw = RawAws(args.endpoint)
    seen = {}
    lock = threading.Lock()
    done = threading.Event()

    def receiver(_):
        wait = 0
        while not done.is_set():
            msgs = raw.call(
                "sqs",
                "AmazonSQS.ReceiveMessage",
                "1.0",
                {"QueueUrl": dlq_url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 300, "WaitTimeSeconds": wait,
                 "MessageAttributeNames": ["All"], "MessageSystemAttributeNames": ["SentTimestamp", "ApproximateReceiveCount"]},
            ).get("Messages", [])
            if not msgs:
                if wait:
                    done.set()
                    return
                wait = 1
                continue
            wait = 0 if len(msgs) == 10 else 1
            with lock:
                for m in msgs:
                    seen[m["MessageId"]] = m["ReceiptHandle"]

    def release(batch):
        raw.call(
            "sqs",
            "AmazonSQS.ChangeMessageVisibilityBatch",
            "1.0",
            {"QueueUrl": dlq_url, "Entries": [{"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": 0} for i, r in enumerate(batch)]},
        )

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(receiver, range(args.threads)))
    handles = list(seen.values())
    with cf.ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(release, [handles[i:i + 10] for i in range(0, len(handles), 10)]))
    wall = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    with open(args.out, "w") as f:
        json.dump({"wall": wall, "cpu": cpu, "seen": len(seen)}, f)
    log(f"scan reference: read {len(seen)} in {wall:.2f}s with {args.threads} threads")


def cmd_depth(args):
    case = json.load(open(args.case))
    visible, in_flight = depth(client("sqs", args.endpoint), case["dlq_url"])
    print(f"{visible} {in_flight}")


# ---------------------------------------------------------------------------------------------
# verify


def drain(endpoint, url, threads=8):
    """Receive every message of a queue once (long visibility, no delete).

    Returns {MessageId: (body, SentTimestamp ms)}. Each thread stops at its first empty long
    poll: only an empty long poll shows that a queue has nothing visible left."""
    seen = {}
    lock = threading.Lock()

    def worker(_):
        sqs = client("sqs", endpoint)
        while True:
            msgs = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=3600,
                WaitTimeSeconds=1,
                AttributeNames=["SentTimestamp"],
            ).get("Messages", [])
            if not msgs:
                return
            with lock:
                for m in msgs:
                    sent = int(m.get("Attributes", {}).get("SentTimestamp", 0))
                    seen.setdefault(m["MessageId"], (m["Body"], sent))

    with cf.ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    return seen


def wait_settled(sqs, url, timeout=30):
    """Wait until a queue's depth stops changing (deliveries to the sink have landed)."""
    last, stable_since, deadline = None, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = depth(sqs, url)
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since >= 1.0:
            break
        time.sleep(0.2)
    return last


def event_id_of(body):
    try:
        return json.loads(body)["detail"]["metadata"]["eventId"]
    except (ValueError, KeyError, TypeError):
        return None


def cmd_verify(args):
    case = json.load(open(args.case))
    sqs = client("sqs", args.endpoint)
    seeded = case["event_ids"]
    seeded_set = set(seeded)
    wait_settled(sqs, case["sink_url"])
    sink = drain(args.endpoint, case["sink_url"])
    dlq_depth = depth(sqs, case["dlq_url"])
    dlq = drain(args.endpoint, case["dlq_url"])

    sink_ids = Counter(event_id_of(b) for b, _ in sink.values())
    dlq_ids = Counter(event_id_of(b) for b, _ in dlq.values())
    # The sink's SentTimestamps span the part of the run that moved messages (without start-up,
    # discovery and the final empty long poll): the steady rate, measured outside the client.
    sent = sorted(t for _, t in sink.values() if t)
    steady = (len(sent) - 1) / ((sent[-1] - sent[0]) / 1000) if len(sent) > 1 and sent[-1] > sent[0] else None
    endpoint_share = proxy_share = None
    if args.cpu_samples and steady:
        endpoint_share = cpu_share(args.cpu_samples, 1, sent[0], sent[-1])
        if args.proxy_cpu is not None:
            proxy_share = cpu_share(args.cpu_samples, 2, sent[0], sent[-1])
    lost = len(seeded_set - set(sink_ids) - set(dlq_ids))
    duplicated = sum(1 for e, c in sink_ids.items() if c > 1 and e in seeded_set)
    foreign = sum(c for e, c in sink_ids.items() if e not in seeded_set)
    redriven_in_sink = sum(1 for e in sink_ids if e in seeded_set)

    row = {
        "label": args.label,
        "client": args.client,
        "delay_ms": args.delay_ms,
        "concurrency": args.concurrency,
        "messages": case["messages"],
        "in_sink": redriven_in_sink,
        "lost": lost,
        "duplicated": duplicated,
        "foreign_in_sink": foreign,
        "left_in_dlq": len(dlq),
        "dlq_depth_after": dlq_depth,
        "steady_rate": steady,
        "endpoint_cpu_s": args.endpoint_cpu,
        "proxy_cpu_s": args.proxy_cpu,
        "endpoint_cpu_steady": endpoint_share,
        "proxy_cpu_steady": proxy_share,
        "note": args.note,
    }
    if args.runs:
        # Fault cases: every run's exit code, and the duplicates no client can avoid.
        row["runs"] = [int(x) for x in args.runs.split(",") if x]
    if args.ambiguous is not None:
        row["ambiguous_puts"] = args.ambiguous
    if args.time:
        # /usr/bin/time -f '%e %U %S': wall, user, sys of the ecomm process.
        last = [line for line in open(args.time).read().splitlines() if line.strip()][-1]
        wall, user, system = (float(x) for x in last.split())
        row.update(wall=wall, cpu=user + system)
    if args.reference:
        ref = json.load(open(args.reference))
        row.update(wall=ref["wall"], cpu=ref["cpu"])
    if args.report:
        try:
            rep = json.load(open(args.report))
            row.update(
                redriven=rep.get("redriven"),
                failed=rep.get("failed"),
                skipped=rep.get("skipped"),
                delivered_not_deleted=rep.get("deliveredNotDeleted"),
                exit_code=args.exit_code,
            )
        except (OSError, ValueError) as e:
            row.update(report_error=str(e), exit_code=args.exit_code)
    row["loadavg"] = os.getloadavg()[0]
    # Drop the case's queues and bus: LocalStack's SQS keeps sweeping every queue's in-flight
    # messages in the background, and later cases should not pay for earlier ones.
    events = client("events", args.endpoint)
    rule = case["rule_arn"].rsplit("/", 1)[-1]
    for call in (
        lambda: events.remove_targets(Rule=rule, EventBusName=case["bus"], Ids=[TARGET_ID]),
        lambda: events.delete_rule(Name=rule, EventBusName=case["bus"]),
        lambda: events.delete_event_bus(Name=case["bus"]),
        lambda: sqs.delete_queue(QueueUrl=case["sink_url"]),
        lambda: sqs.delete_queue(QueueUrl=case["dlq_url"]),
    ):
        try:
            call()
        except Exception as e:  # noqa: BLE001 - clean-up is best effort
            log(f"clean-up: {e}")
    print(json.dumps(row), flush=True)
    log(
        f"{args.label}: sink {redriven_in_sink}/{case['messages']}, lost {lost}, "
        f"duplicated {duplicated}, left in DLQ {len(dlq)}"
    )


# ---------------------------------------------------------------------------------------------
# CPU sampling of the endpoint processes


def cmd_sample(args):
    """Every --interval s, append "epoch_ms ticks_of_pid1 ticks_of_pid2 ..." to --out."""
    import signal

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def ticks(pid):
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            return 0

    with open(args.out, "a", buffering=1) as f:
        while not stop.is_set():
            f.write(" ".join([str(int(time.time() * 1000))] + [str(ticks(p)) for p in args.pid]) + "\n")
            stop.wait(args.interval)


def cpu_share(samples_file, column, start_ms, end_ms):
    """CPU share (1.0 = one core) of a sampled process between two epoch times."""
    hz = os.sysconf("SC_CLK_TCK")
    rows = []
    for line in open(samples_file):
        parts = line.split()
        if len(parts) > column:
            rows.append((int(parts[0]), int(parts[column])))
    inside = [r for r in rows if start_ms <= r[0] <= end_ms]
    if len(inside) < 2 or inside[-1][0] == inside[0][0]:
        return None
    return (inside[-1][1] - inside[0][1]) / hz / ((inside[-1][0] - inside[0][0]) / 1000)


# ---------------------------------------------------------------------------------------------
# table


def cmd_faults(args):
    """The fault cases: runs needed, exit codes, lost / left / duplicated against the bound."""
    rows = [json.loads(line) for line in open(args.results) if line.strip()]
    rows = [r for r in rows if "runs" in r]
    if not rows:
        return
    print(f"{'case':<16} {'msgs':>6} {'runs':>4}  {'exit codes':<24} {'lost':>4} {'left':>4} {'dup':>5} {'ambiguous puts':>14}  verdict")
    bad = False
    for r in rows:
        amb = r.get("ambiguous_puts")
        ok = not r["lost"] and not r["left_in_dlq"]
        if r["label"].startswith("faults-once"):
            ok = ok and len(r["runs"]) == 1 and r["runs"][0] == 0 and amb is not None and r["duplicated"] <= amb
        bad |= not ok
        print(
            f"{r['label']:<16} {r['messages']:>6} {len(r['runs']):>4}  {','.join(map(str, r['runs'])):<24} "
            f"{r['lost']:>4} {r['left_in_dlq']:>4} {r['duplicated']:>5} {'-' if amb is None else amb:>14}  "
            f"{'ok' if ok else 'PROBLEM'}"
        )
    print("faults: " + ("PROBLEMS (see above)" if bad else "nothing lost or left; without kills one run sufficed and duplicates stayed within the ambiguous puts."))
    if bad:
        sys.exit(1)


def cmd_table(args):
    rows = [json.loads(line) for line in open(args.results) if line.strip()]
    rows = [r for r in rows if "runs" not in r]
    if not rows:
        return
    head = [
        ("case", "<"),
        ("client", "<"),
        ("delay", ">"),
        ("conc", ">"),
        ("msgs", ">"),
        ("seconds", ">"),
        ("msgs/s", ">"),
        ("steady msgs/s", ">"),
        ("CPU s/1k msgs", ">"),
        ("LocalStack CPU", ">"),
        ("proxy CPU", ">"),
        ("lost", ">"),
        ("dup", ">"),
        ("left", ">"),
        ("exit", ">"),
        ("load", ">"),
    ]

    def pct(share):
        return f"{share * 100:.0f}%" if share is not None else "-"

    table = []
    for r in rows:
        wall, cpu, n = r.get("wall"), r.get("cpu"), r["messages"]
        table.append(
            [
                r["label"],
                r["client"],
                f"{r['delay_ms']:g} ms",
                str(r["concurrency"]),
                str(n),
                f"{wall:.2f}" if wall else "-",
                f"{r['in_sink'] / wall:.0f}" if wall else "-",
                f"{r['steady_rate']:.0f}" if r.get("steady_rate") else "-",
                f"{cpu / n * 1000:.3f}" if cpu is not None else "-",
                pct(r.get("endpoint_cpu_steady")),
                pct(r.get("proxy_cpu_steady")),
                str(r["lost"]),
                str(r["duplicated"]),
                str(r["left_in_dlq"]),
                "-" if r.get("exit_code") is None else str(r["exit_code"]),
                f"{r['loadavg']:.1f}" if r.get("loadavg") is not None else "-",
            ]
        )
    widths = [max([len(h)] + [len(t[i]) for t in table]) for i, (h, _) in enumerate(head)]

    def fmt(cells):
        return "  ".join(
            c.ljust(w) if a == "<" else c.rjust(w) for c, w, (_, a) in zip(cells, widths, head)
        )

    print(fmt([h for h, _ in head]))
    print(fmt(["-" * w for w in widths]))
    for t in table:
        print(fmt(t))
    print_summary(rows)


def print_summary(rows):
    """What the table means: each ecomm case (but one worker) against each reference of the same
    route and delay, as ratios (steady msgs/s: higher is better for ecomm; CPU per message:
    lower is better), the gain of concurrency, correctness, and the notes."""

    def route(r):
        return "target" if r["label"].startswith("sqs-") else "bus"

    lines = []
    for r in rows:
        if r["client"] != "ecomm" or r["label"].endswith("-c1"):
            continue
        for ref in rows:
            if ref["client"] == "ecomm" or ref["delay_ms"] != r["delay_ms"] or route(ref) != route(r):
                continue
            parts = []
            if r.get("steady_rate") and ref.get("steady_rate"):
                parts.append(f"steady msgs/s {r['steady_rate'] / ref['steady_rate']:.2f}x")
            if r.get("cpu") and ref.get("cpu"):
                ours, theirs = r["cpu"] / r["messages"], ref["cpu"] / ref["messages"]
                parts.append(f"CPU per message {ours / theirs:.2f}x")
            if parts:
                lines.append(f"  {r['label']} against {ref['label']} ({ref['client']}): " + ", ".join(parts))
    if lines:
        print()
        print("ecomm against the references of the same route and delay, in this run:")
        print("\n".join(lines))
    by_label = {r["label"]: r for r in rows}
    one, default = by_label.get("delay-c1"), by_label.get("delay-default")
    if one and default and one.get("steady_rate") and default.get("steady_rate"):
        print(
            f"at {default['delay_ms']:g} ms per request: the default concurrency moved "
            f"{default['steady_rate']:.0f} msgs/s steady, {default['steady_rate'] / one['steady_rate']:.1f}x "
            f"one worker ({one['steady_rate']:.0f})."
        )
    bad = [r["label"] for r in rows if r["lost"] or r["duplicated"] or r["left_in_dlq"] or r.get("exit_code")]
    print("correctness: " + (f"PROBLEMS in {', '.join(bad)}" if bad else "no message lost, duplicated or left behind in any case."))
    notes = [f"  {r['label']}: {r['note']}" for r in rows if r.get("note")]
    if notes:
        print("notes:")
        print("\n".join(notes))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--endpoint", required=True)
    s.add_argument("--prefix", required=True)
    s.add_argument("--messages", type=int, required=True)
    s.add_argument("--threads", type=int, default=8)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_setup)
    r = sub.add_parser("reference")
    r.add_argument("--endpoint", required=True)
    r.add_argument("--case", required=True)
    r.add_argument("--threads", type=int, default=32)
    r.add_argument("--via", choices=["bus", "queue"], default="bus",
                   help="bus: PutEvents (as ecomm --via bus); queue: SendMessageBatch to the sink queue (as ecomm --via target to an SQS target)")
    r.add_argument("--out", required=True)
    r.set_defaults(fn=cmd_reference)
    v = sub.add_parser("verify")
    v.add_argument("--endpoint", required=True)
    v.add_argument("--case", required=True)
    v.add_argument("--label", required=True)
    v.add_argument("--client", default="ecomm")
    v.add_argument("--delay-ms", type=float, default=0)
    v.add_argument("--concurrency", default="-")
    v.add_argument("--time")
    v.add_argument("--report")
    v.add_argument("--reference")
    v.add_argument("--exit-code", type=int)
    v.add_argument("--endpoint-cpu", type=float)
    v.add_argument("--proxy-cpu", type=float)
    v.add_argument("--cpu-samples", help="file written by `sample --pid LOCALSTACK --pid PROXY`")
    v.add_argument("--note")
    v.add_argument("--runs", help="fault cases: the exit code of every run, comma-separated")
    v.add_argument("--ambiguous", type=int, help="fault cases: PutEvents entries that took effect but were answered 500 or dropped")
    v.set_defaults(fn=cmd_verify)
    c = sub.add_parser("sample")
    c.add_argument("--pid", type=int, action="append", required=True)
    c.add_argument("--interval", type=float, default=0.2)
    c.add_argument("--out", required=True)
    c.set_defaults(fn=cmd_sample)
    t = sub.add_parser("table")
    t.add_argument("results")
    t.set_defaults(fn=cmd_table)
    r = sub.add_parser("scan-reference")
    r.add_argument("--endpoint", required=True)
    r.add_argument("--case", required=True)
    r.add_argument("--threads", type=int, default=8)
    r.add_argument("--out", required=True)
    r.set_defaults(fn=cmd_scan_reference)
    d = sub.add_parser("depth")
    d.add_argument("--endpoint", required=True)
    d.add_argument("--case", required=True)
    d.set_defaults(fn=cmd_depth)
    f = sub.add_parser("faults")
    f.add_argument("results")
    f.set_defaults(fn=cmd_faults)
    args = parser.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()

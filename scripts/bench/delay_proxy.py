#!/usr/bin/env python3
"""A loopback HTTP/1.1 proxy that puts an endpoint "far away", as AWS is: each request waits a
fixed delay before it is forwarded, and the client's connection stays open between requests.

Real AWS round trips take tens of milliseconds; loopback takes well under one. This proxy shows
whether a client overlaps its requests. It also keeps each client connection alive, as AWS's
endpoints do, even though LocalStack (hypercorn-h11) answers every request with
`Connection: close`: without that, every client would pay a TCP connect and teardown per
request that it does not pay against AWS, and its CPU per message would measure LocalStack's
server, not the client (--close passes LocalStack's behaviour through instead).

Per client connection, requests are read one at a time (Content-Length or chunked bodies; no
AWS SDK pipelines). Each request waits --delay-ms once, then goes upstream on a new connection
(LocalStack closes it after the answer); the answer is relayed with its framing, minus
LocalStack's `Connection: close`. A client that asks to close, or an answer delimited by the end
of the stream, closes the client connection too. Every connection has its own task, so many
concurrent connections are held at once, not queued.

Usage: delay_proxy.py --listen-port P --upstream-port U [--delay-ms 20] [--close]
       [--ready-file F]
Binds 127.0.0.1 only. Stops on SIGTERM/SIGINT. Prints counters to stderr when it stops.
"""

import argparse
import asyncio
import signal
import socket
import sys

STATS = {"connections": 0, "requests": 0, "open": 0, "max_open": 0, "upstream_errors": 0}
# asyncio keeps only weak references to tasks, and a stream server drops its own reference to
# a connection's task when the client disconnects: hold them here until they finish.
TASKS = set()


def keep(task):
    TASKS.add(task)
    task.add_done_callback(TASKS.discard)
    return task


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def read_message(reader, is_response):
    """One HTTP/1.x message as (head lines, headers by lower-case name, raw head, raw body,
    whether the body is delimited by the end of the stream), or None at a clean end of stream."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if e.partial:
            raise ConnectionError("truncated head") from e
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = b""
    until_eof = False
    status = lines[0].split(" ", 2)[1] if is_response else ""
    no_body = is_response and (status.startswith("1") or status in ("204", "304"))
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            parts.append(size_line)
            if size == 0:
                parts.append(await read_trailer(reader))
                break
            parts.append(await reader.readexactly(size + 2))
        body = b"".join(parts)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif is_response and not no_body:
        body = await reader.read()
        until_eof = True
    return lines, headers, head, body, until_eof


async def read_trailer(reader):
    """The trailer of a chunked body, up to and including its final empty line."""
    parts = []
    while True:
        line = await reader.readuntil(b"\r\n")
        parts.append(line)
        if line == b"\r\n":
            return b"".join(parts)


def without_close(head_lines):
    """The response head minus its `Connection` header, re-encoded."""
    kept = [line for line in head_lines if not line.lower().startswith("connection:")]
    return "\r\n".join(kept).encode("latin-1")


async def handle(client_reader, client_writer, upstream_port, delay, close):
    keep(asyncio.current_task())
    STATS["connections"] += 1
    STATS["open"] += 1
    STATS["max_open"] = max(STATS["max_open"], STATS["open"])
    nodelay(client_writer)
    try:
        while True:
            request = await read_message(client_reader, is_response=False)
            if request is None:
                break
            _, request_headers, request_head, request_body, _ = request
            STATS["requests"] += 1
            await asyncio.sleep(delay)
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
            except OSError:
                STATS["upstream_errors"] += 1
                break
            nodelay(up_writer)
            try:
                up_writer.write(request_head + request_body)
                await up_writer.drain()
                response = await read_message(up_reader, is_response=True)
            finally:
                up_writer.close()
            if response is None:
                STATS["upstream_errors"] += 1
                break
            lines, headers, head, body, until_eof = response
            client_asks_close = request_headers.get("connection", "").lower() == "close"
            upstream_closes = headers.get("connection", "").lower() == "close"
            last = (close and upstream_closes) or client_asks_close or until_eof
            client_writer.write((head if last else without_close(lines)) + body)
            await client_writer.drain()
            if last:
                break
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError, ValueError):
        pass
    finally:
        STATS["open"] -= 1
        client_writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen-port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--close", action="store_true", help="close the client connection whenever LocalStack closes its own")
    parser.add_argument("--ready-file", help="written once the proxy listens")
    args = parser.parse_args()
    delay = args.delay_ms / 1000.0

    server = await asyncio.start_server(
        lambda r, w: handle(r, w, args.upstream_port, delay, args.close),
        host="127.0.0.1",
        port=args.listen_port,
        backlog=1024,
        reuse_address=True,
        limit=1 << 20,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write(f"{args.listen_port}\n")
    print(
        f"delay-proxy: 127.0.0.1:{args.listen_port} -> 127.0.0.1:{args.upstream_port}, "
        f"{args.delay_ms:g} ms per request, client connections {'closed as upstream closes' if args.close else 'kept alive'}",
        file=sys.stderr,
        flush=True,
    )
    async with server:
        await stop.wait()
    print(f"delay-proxy: stopped; {STATS}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    asyncio.run(main())

#!/usr/bin/env python3
"""A loopback TCP proxy that holds each HTTP request for a fixed delay before forwarding it.

Real AWS round trips take tens of milliseconds; loopback takes well under one. This proxy puts
an endpoint "far away" so that a benchmark shows whether a client overlaps its requests.

Per client connection it opens one upstream connection and pumps bytes both ways. The first
client chunk after a response (or at the start of the connection) begins a new HTTP/1.x
request: that chunk waits --delay-ms before it is forwarded. Later chunks of the same request
(the rest of a large body) and the responses pass without delay. That is keep-alive aware
without parsing HTTP, as long as the client does not pipeline (no AWS SDK does). Every
connection has its own tasks, so many concurrent connections are held at once, not queued.

Usage: delay_proxy.py --listen-port P --upstream-port U [--delay-ms 20] [--ready-file F]
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


async def pump(reader, writer, on_chunk):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            await on_chunk(data)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, OSError):
        pass
    finally:
        try:
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, RuntimeError):
            pass


async def handle(client_reader, client_writer, upstream_port, delay):
    keep(asyncio.current_task())
    STATS["connections"] += 1
    STATS["open"] += 1
    STATS["max_open"] = max(STATS["max_open"], STATS["open"])
    sock = client_writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            STATS["upstream_errors"] += 1
            return
        up_sock = up_writer.get_extra_info("socket")
        if up_sock is not None:
            up_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        state = {"new_request": True}

        async def request_chunk(_data):
            if state["new_request"]:
                state["new_request"] = False
                STATS["requests"] += 1
                await asyncio.sleep(delay)

        async def response_chunk(_data):
            state["new_request"] = True

        await asyncio.gather(
            keep(asyncio.ensure_future(pump(client_reader, up_writer, request_chunk))),
            keep(asyncio.ensure_future(pump(up_reader, client_writer, response_chunk))),
        )
        up_writer.close()
    finally:
        STATS["open"] -= 1
        client_writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen-port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--ready-file", help="written once the proxy listens")
    args = parser.parse_args()
    delay = args.delay_ms / 1000.0

    server = await asyncio.start_server(
        lambda r, w: handle(r, w, args.upstream_port, delay),
        host="127.0.0.1",
        port=args.listen_port,
        backlog=1024,
        reuse_address=True,
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
        f"{args.delay_ms:g} ms per request",
        file=sys.stderr,
        flush=True,
    )
    async with server:
        await stop.wait()
    print(f"delay-proxy: stopped; {STATS}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    asyncio.run(main())

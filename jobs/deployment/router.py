"""python -m jobs.deployment.router — the docker target's stable endpoint.

A plain TCP forwarder in front of the two serving containers (blue and green, each on its own
port). Every connection goes to the upstream that took the previous one; only when that one
refuses — its container was removed — does the router try the next. The docker target therefore
switches traffic by removing the old container, and does that only after the new one answered
/readyz and passed the smoke test: no control channel, no state to lose, and clients keep one
address while versions come and go.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from jobs.common import logs

log = logging.getLogger("handoff")

CONNECT_TIMEOUT_S = 2.0
CHUNK = 65536


def address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host, int(port)


class Router:
    def __init__(self, upstreams: Sequence[tuple[str, int]],
                 connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        if not upstreams:
            raise ValueError("a router needs at least one upstream")
        self.upstreams = list(upstreams)
        self.connect_timeout_s = connect_timeout_s
        self.current = 0

    def order(self) -> list[int]:
        """The upstream that took the last connection first, then the others as configured."""
        return [self.current] + [i for i in range(len(self.upstreams)) if i != self.current]

    async def handle(self, client_reader: asyncio.StreamReader,
                     client_writer: asyncio.StreamWriter) -> None:
        for index in self.order():
            host, port = self.upstreams[index]
            try:
                upstream_reader, upstream_writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), self.connect_timeout_s)
            except (OSError, TimeoutError):
                continue
            if index != self.current:
                log.info("forwarding to %s:%s", host, port)
                self.current = index
            await bridge(client_reader, client_writer, upstream_reader, upstream_writer)
            return
        log.warning("no upstream answers (%s)",
                    ", ".join(f"{h}:{p}" for h, p in self.upstreams))
        await _close(client_writer)


async def bridge(a_reader: asyncio.StreamReader, a_writer: asyncio.StreamWriter,
                 b_reader: asyncio.StreamReader, b_writer: asyncio.StreamWriter) -> None:
    """Copy both ways; an end of stream is passed on (half-close), a broken side ends both."""

    async def copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            a_writer.close()
            b_writer.close()

    try:
        await asyncio.gather(copy(a_reader, b_writer), copy(b_reader, a_writer))
    finally:
        await _close(a_writer)
        await _close(b_writer)


async def _close(writer: asyncio.StreamWriter) -> None:
    if not writer.is_closing():
        writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()


async def serve(listen: tuple[str, int], router: Router,
                started: asyncio.Event | None = None) -> None:
    server = await asyncio.start_server(router.handle, *listen, reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    log.info("router on %s:%s -> %s", *listen,
             ", ".join(f"{h}:{p}" for h, p in router.upstreams))
    async with server:
        if started is not None:
            started.set()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    logs.configure()
    parser = argparse.ArgumentParser(prog="python -m jobs.deployment.router",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=address, required=True, metavar="HOST:PORT")
    parser.add_argument("--upstream", type=address, action="append", required=True,
                        metavar="HOST:PORT", help="in order of preference; repeat")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.listen, Router(args.upstream)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""python -m jobs.deployment.targets.router — the docker target's stable endpoint.

A plain TCP forwarder in front of the two serving containers (blue and green, each on its own
port). Every connection goes to the upstream that took the previous one; only when that one
refuses — its container was removed — does the router try the next. The docker target therefore
switches traffic by removing the old container, and does that only after the new one answered
/readyz and passed the smoke test: no control channel, no state to lose, and clients keep one
address while versions come and go.

A container that is stopping drops connections it accepted but had not yet read (uvicorn closes
idle connections on shutdown). So what a client sent is kept until the first byte of an answer,
and if the upstream goes away before answering at all, it is sent again to the next upstream.
That is safe for what runs behind it: /predict has no side effects.
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
MAX_REPLAY = 4 * 1024 * 1024  # above this, a request is not kept for sending again


def address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host, int(port)


class Router:
    def __init__(
        self, upstreams: Sequence[tuple[str, int]], connect_timeout_s: float = CONNECT_TIMEOUT_S
    ) -> None:
        if not upstreams:
            raise ValueError("a router needs at least one upstream")
        self.upstreams = list(upstreams)
        self.connect_timeout_s = connect_timeout_s
        self.current = 0

    def order(self) -> list[int]:
        """The upstream that took the last connection first, then the others as configured."""
        return [self.current] + [i for i in range(len(self.upstreams)) if i != self.current]

    async def handle(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        client = _Client(client_reader, client_writer)
        try:
            for index in self.order():
                host, port = self.upstreams[index]
                try:
                    upstream = await asyncio.wait_for(
                        asyncio.open_connection(host, port), self.connect_timeout_s
                    )
                except (OSError, TimeoutError):
                    continue
                if index != self.current:
                    log.info("forwarding to %s:%s", host, port)
                    self.current = index
                if await client.relay(*upstream):
                    return
                log.info("%s:%s left before answering; sending the request on", host, port)
            log.warning(
                "no upstream answers (%s)", ", ".join(f"{h}:{p}" for h, p in self.upstreams)
            )
        finally:
            client_writer.close()


class _Client:
    """One client connection, relayed to one upstream after another until one answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.unanswered = bytearray()  # sent by the client, no answer byte yet: can be resent
        self.replayable = True
        self.answered = False
        self.eof = False  # the client finished sending (half-close)
        self.gone = False  # the client connection broke

    async def relay(self, up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> bool:
        """Copy both ways until the upstream is done. False: it left before answering anything
        and the request can go to another upstream; True: this connection is finished."""
        try:
            if self.unanswered:
                up_writer.write(bytes(self.unanswered))
            if self.eof and up_writer.can_write_eof():
                up_writer.write_eof()
            sending = asyncio.create_task(self._from_client(up_writer))
            await self._from_upstream(up_reader)
            sending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sending
            return self.answered or self.gone or not self.replayable
        finally:
            up_writer.close()

    async def _from_client(self, up_writer: asyncio.StreamWriter) -> None:
        while not self.eof:
            try:
                data = await self.reader.read(CHUNK)
            except ConnectionError:
                self.gone = True
                return
            if not data:
                self.eof = True
                with contextlib.suppress(ConnectionError, OSError):
                    if up_writer.can_write_eof():
                        up_writer.write_eof()
                return
            if not self.answered and self.replayable:
                self.unanswered += data
                if len(self.unanswered) > MAX_REPLAY:
                    self.replayable = False
                    self.unanswered.clear()
            try:
                up_writer.write(data)
                await up_writer.drain()
            except ConnectionError:
                return  # the upstream broke: _from_upstream sees it end

    async def _from_upstream(self, up_reader: asyncio.StreamReader) -> None:
        while True:
            try:
                data = await up_reader.read(CHUNK)
            except ConnectionError:
                return  # reset by the upstream: answered or not decides what comes next
            if not data:
                break
            if not self.answered:
                self.answered = True
                self.unanswered.clear()
            try:
                self.writer.write(data)
                await self.writer.drain()
            except ConnectionError:
                self.gone = True
                return
        if self.answered and self.writer.can_write_eof():
            with contextlib.suppress(ConnectionError, OSError):
                self.writer.write_eof()


async def serve(
    listen: tuple[str, int], router: Router, started: asyncio.Event | None = None
) -> None:
    server = await asyncio.start_server(router.handle, *listen, reuse_address=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    log.info("router on %s:%s -> %s", *listen, ", ".join(f"{h}:{p}" for h, p in router.upstreams))
    async with server:
        if started is not None:
            started.set()
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    logs.configure()
    parser = argparse.ArgumentParser(
        prog="python -m jobs.deployment.targets.router", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--listen", type=address, required=True, metavar="HOST:PORT")
    parser.add_argument(
        "--upstream",
        type=address,
        action="append",
        required=True,
        metavar="HOST:PORT",
        help="in order of preference; repeat",
    )
    args = parser.parse_args(argv)
    asyncio.run(serve(args.listen, Router(args.upstream)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

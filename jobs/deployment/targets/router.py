"""python -m jobs.deployment.targets.router — the docker target's stable endpoint.

A plain TCP forwarder in front of the two serving containers (blue and green, each on its own
port). Every connection goes to the upstream that took the previous one; only when that one
refuses — its container was removed — does the router try the next. The docker target therefore
switches traffic by removing the old container, and does that only after the new one answered
/readyz and passed the smoke test: no control channel, no state to lose, and clients keep one
address while versions come and go.

A container that is stopping closes the connections it holds that are between requests (uvicorn
closes idle keep-alive connections on shutdown), and may do so just as a client sends its next
request on one. So what a client sent is kept until the first byte of its answer, and if the
upstream goes away before answering it, it is sent again to the next upstream; an upstream that
goes away between two answers leaves the client connection open, and the client's next request
goes to whichever upstream then accepts. That is safe for what runs behind it: /predict has no side
effects. To tell "between two answers" from "in the middle of one", the router follows just enough
of HTTP/1.1 to see where an answer with a Content-Length ends; an answer it cannot frame that way
ends the client connection when the upstream leaves, as a plain TCP forwarder would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
import sys
from collections.abc import Sequence

from jobs.common.runtime import logs

log = logging.getLogger("handoff")

CONNECT_TIMEOUT_S = 2.0
RETRY_S = 5.0  # how long a request waits for some upstream to accept and answer it
RETRY_PAUSE_S = 0.2
CHUNK = 65536
MAX_REPLAY = 4 * 1024 * 1024  # above this, a request is not kept for sending again
MAX_HEAD = 64 * 1024  # an answer's status line and headers; longer → not framed
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)[ \t]*(?=\r\n|$)", re.IGNORECASE)
_TRANSFER_ENCODING = re.compile(rb"\r\ntransfer-encoding:", re.IGNORECASE)


def address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host, int(port)


class Router:
    def __init__(
        self,
        upstreams: Sequence[tuple[str, int]],
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        retry_s: float = RETRY_S,
    ) -> None:
        if not upstreams:
            raise ValueError("a router needs at least one upstream")
        self.upstreams = list(upstreams)
        self.connect_timeout_s = connect_timeout_s
        self.retry_s = retry_s
        self.current = 0

    def order(self) -> list[int]:
        """The upstream that took the last connection first, then the others as configured."""
        return [self.current] + [i for i in range(len(self.upstreams)) if i != self.current]

    async def handle(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        client = _Client(client_reader, client_writer)
        try:
            while await client.next_request():
                if not await self._forward(client):
                    log.warning(
                        "no upstream answers (%s)", ", ".join(f"{h}:{p}" for h, p in self.upstreams)
                    )
                    return
                if not client.between_answers():
                    return
        finally:
            client_writer.close()

    async def _forward(self, client: _Client) -> bool:
        """Relay the client to the first upstream that accepts it, and on to the next while one
        leaves before answering; go round again for up to `retry_s` (a loaded machine may stall
        a connect past its timeout). False: none accepted and answered meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_s
        while True:
            for index in self.order():
                host, port = self.upstreams[index]
                try:
                    upstream = await asyncio.wait_for(
                        asyncio.open_connection(host, port), self.connect_timeout_s
                    )
                except (OSError, TimeoutError) as err:
                    log.info("%s:%s does not accept: %r", host, port, err)
                    continue
                if index != self.current:
                    log.info("forwarding to %s:%s", host, port)
                    self.current = index
                if not await client.relay(*upstream):
                    return True
                log.info("%s:%s left before answering; sending the request on", host, port)
                deadline = loop.time() + self.retry_s
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(RETRY_PAUSE_S)


class _Answer:
    """Where the upstream's current answer ends, as far as HTTP/1.1 framing with a Content-Length
    tells: `done` once its last body byte went by. An answer framed otherwise (chunked, 1xx,
    a body without a length, a head too long) is never `done`: it ends with the connection."""

    def __init__(self) -> None:
        self.done = True  # no answer in progress
        self.head = bytearray()
        self.body_left: int | None = None  # None: still reading the head

    def feed(self, data: bytes) -> None:
        while data:
            if self.done:  # the first byte of the next answer
                self.done, self.body_left = False, None
                self.head.clear()
            if self.body_left is None:
                data = self._read_head(data)
                continue
            if self.body_left < 0:  # unframed: runs to the end of the connection
                return
            taken = min(self.body_left, len(data))
            self.body_left -= taken
            data = data[taken:]
            self.done = self.body_left == 0

    def _read_head(self, data: bytes) -> bytes:
        start = max(0, len(self.head) - 3)
        self.head += data
        end = self.head.find(b"\r\n\r\n", start)
        if end < 0:
            if len(self.head) > MAX_HEAD:
                self.body_left = -1
            return b""
        rest = bytes(self.head[end + 4 :])
        head = bytes(self.head[:end])
        length = _CONTENT_LENGTH.search(head)
        if head[9:10] == b"1" or length is None or _TRANSFER_ENCODING.search(head):
            self.body_left = -1
            return b""
        self.body_left = int(length.group(1))
        self.done = self.body_left == 0
        return rest


class _Client:
    """One client connection, relayed to one upstream after another: each request is kept until
    an answer to it begins, and sent again if its upstream leaves before that."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.unanswered: bytearray | None = bytearray()  # None: too large to send again
        self.answer = _Answer()
        self.eof = False  # the client finished sending (half-close)
        self.gone = False  # the client connection broke

    async def next_request(self) -> bool:
        """Wait, between answers, until the client sends something; False if it closes instead."""
        if self.unanswered:
            return True
        if self.eof or self.gone:
            return False
        try:
            data = await self.reader.read(CHUNK)
        except ConnectionError:
            self.gone = True
            return False
        if not data:
            self.eof = True
            return False
        self._keep(data)
        return True

    def between_answers(self) -> bool:
        """The upstream left with every answer complete and the client still there and sending:
        its next request may go to another upstream."""
        return not (self.gone or self.eof) and self.answer.done and self.unanswered is not None

    async def relay(self, up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> bool:
        """Copy both ways until the upstream is done. True: it left with a request unanswered
        that can go to another upstream."""
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
            return bool(self.unanswered) and not self.gone
        finally:
            up_writer.close()

    def _keep(self, data: bytes) -> None:
        if not self.answer.done:  # pipelined behind an answer in progress: not resendable
            self.unanswered = None
        elif self.unanswered is not None:
            self.unanswered += data
            if len(self.unanswered) > MAX_REPLAY:
                self.unanswered = None

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
            self._keep(data)
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
                return  # reset by the upstream: whether anything is unanswered decides the rest
            if not data:
                break
            if self.answer.done:  # an answer begins: what the client sent is answered
                self.unanswered = bytearray()
            self.answer.feed(data)
            try:
                self.writer.write(data)
                await self.writer.drain()
            except ConnectionError:
                self.gone = True
                return


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

"""The docker target's router, for real on loopback: two upstream HTTP servers and a client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from jobs.deployment.targets.router import Router, _Answer, address, serve
from tests.harness.servers import free_port

pytestmark = pytest.mark.timeout(60)


@contextlib.asynccontextmanager
async def upstream(name: str, port: int) -> AsyncIterator[None]:
    """An HTTP/1.1 server answering every request with its name, until the block exits."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while await reader.readuntil(b"\r\n\r\n"):
                body = name.encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def router(ports: list[int]) -> AsyncIterator[str]:
    listen = free_port()
    started = asyncio.Event()
    task = asyncio.create_task(
        serve(("127.0.0.1", listen), Router([("127.0.0.1", p) for p in ports]), started)
    )
    await asyncio.wait_for(started.wait(), 5)
    try:
        yield f"http://127.0.0.1:{listen}"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def ask(url: str) -> str:
    async with httpx.AsyncClient(trust_env=False) as client:
        return (await client.get(url, timeout=5)).text


def test_clients_keep_one_address_while_the_upstream_changes():
    async def scenario() -> None:
        blue, green = free_port(), free_port()
        async with router([blue, green]) as url, contextlib.AsyncExitStack() as first:
            await first.enter_async_context(upstream("blue", blue))
            assert await ask(url) == "blue"
            async with upstream("green", green):
                # both up (a rollout in progress): the router stays with the old one
                assert [await ask(url) for _ in range(3)] == ["blue"] * 3
                await first.aclose()
                # blue removed: the next connection goes to green
                assert await ask(url) == "green"
                async with upstream("blue", blue):
                    # a new blue comes up for the next rollout: green keeps the traffic
                    assert [await ask(url) for _ in range(3)] == ["green"] * 3

    asyncio.run(scenario())


def test_a_keep_alive_connection_carries_many_requests():
    async def scenario() -> list[str]:
        port = free_port()
        async with (
            upstream("only", port),
            router([port, free_port()]) as url,
            httpx.AsyncClient(trust_env=False) as client,
        ):
            return [(await client.get(url)).text for _ in range(5)]

    assert asyncio.run(scenario()) == ["only"] * 5


def test_a_request_dropped_unanswered_by_a_stopping_upstream_goes_to_the_next():
    """A stopping server closes connections it accepted but had not read: no answer byte
    reached the client yet, so the router sends the same request to the other upstream."""

    async def scenario() -> list[str]:
        async def drop(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        stopping, green = free_port(), free_port()
        dropper = await asyncio.start_server(drop, "127.0.0.1", stopping)
        try:
            async with upstream("green", green), router([stopping, green]) as url:
                return [await ask(url), await ask(url)]
        finally:
            dropper.close()

    assert asyncio.run(scenario()) == ["green", "green"]


def test_a_request_on_a_kept_alive_connection_that_a_stopping_upstream_drops_goes_to_the_next():
    """uvicorn, stopping, closes keep-alive connections between requests; the client may already
    have sent its next one. That request is answered by the other upstream, on the same client
    connection."""

    async def scenario() -> list[str]:
        blue, green = free_port(), free_port()
        stopping = asyncio.Event()

        async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nblue")
            await writer.drain()
            stopping.set()
            await reader.readuntil(b"\r\n\r\n")  # the next request arrives, then blue goes
            writer.close()

        first = await asyncio.start_server(once, "127.0.0.1", blue)
        async with (
            upstream("green", green),
            router([blue, green]) as url,
            httpx.AsyncClient(trust_env=False, limits=httpx.Limits(max_connections=1)) as client,
        ):
            answers = [(await client.get(url, timeout=5)).text]
            await stopping.wait()
            first.close()
            await first.wait_closed()
            answers.append((await client.get(url, timeout=5)).text)
            answers.append((await client.get(url, timeout=5)).text)
            return answers

    assert asyncio.run(scenario()) == ["blue", "green", "green"]


def test_an_upstream_that_leaves_in_the_middle_of_an_answer_ends_the_client_connection():
    async def scenario() -> None:
        port = free_port()

        async def truncate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nblu")
            await writer.drain()
            writer.close()

        cut = await asyncio.start_server(truncate, "127.0.0.1", port)
        try:
            async with router([port]) as url, httpx.AsyncClient(trust_env=False) as client:
                # closed at once, not left waiting for the rest until the client's timeout
                with pytest.raises(httpx.RemoteProtocolError):
                    await client.get(url, timeout=30)
        finally:
            cut.close()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("chunks", "done_after"),
    [
        ([b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"], [True]),
        ([b"HTTP/1.1 200 OK\r\nconTent-length:  3\r", b"\n\r\nab", b"c"], [False, False, True]),
        ([b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"], [True]),
        ([b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n"], [False]),
        ([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"], [False]),
        ([b"HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n"], [False]),
        ([b"HTTP/1.0 200 OK\r\n\r\nbody until close"], [False]),
    ],
    ids=["one-chunk", "split", "empty-body", "next-begins", "chunked", "1xx", "no-length"],
)
def test_an_answer_is_done_only_when_its_content_length_went_by(
    chunks: list[bytes], done_after: list[bool]
):
    answer = _Answer()
    seen = []
    for chunk in chunks:
        answer.feed(chunk)
        seen.append(answer.done)
    assert seen == done_after


def test_with_no_upstream_the_connection_is_closed_not_hung():
    async def scenario() -> None:
        async with router([free_port(), free_port()]) as url:
            with pytest.raises(httpx.HTTPError):
                await ask(url)

    asyncio.run(scenario())


def test_addresses_are_host_and_port():
    assert address("handoff-iris-8000-blue:8001") == ("handoff-iris-8000-blue", 8001)
    with pytest.raises(Exception, match="HOST:PORT"):
        address("8001")

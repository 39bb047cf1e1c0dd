"""Loopback servers that misbehave the way the independent probe's did, for the stall and size
faults: a TCP proxy in front of PostgreSQL that goes silent after the handshake, and HTTP
servers that send 10 GiB, an endless chunked body, one byte a second, or nothing at all.

Each runs in daemon threads on 127.0.0.1 and is stopped by `close()` (or `with`); nothing it
sends is generated in memory beyond one small chunk.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self


class _Server:
    """A listening socket on 127.0.0.1 whose every connection `serve` handles in a thread."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        port: int = self._listener.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._sockets.append(client)
            threading.Thread(target=self._guarded, args=(client,), daemon=True).start()

    def _guarded(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self.serve(client)

    def serve(self, client: socket.socket) -> None:
        raise NotImplementedError

    def stopped(self, seconds: float) -> bool:
        return self._stop.wait(seconds)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class SilentAfterProxy(_Server):
    """Forwards everything the client sends to `target`, and the server's first `forward`
    bytes back; then holds the connection open and forwards nothing more (a hung pooler)."""

    def __init__(self, target: tuple[str, int], forward: int = 1000) -> None:
        self._target = target
        self._forward = forward
        self.held = threading.Event()  # set once a connection went silent
        super().__init__()

    def serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self._target)
        self._sockets.append(upstream)
        threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
        sent = 0
        while not self._stop.is_set():
            data = upstream.recv(65536)
            if not data:
                return
            room = max(self._forward - sent, 0)
            if room:
                client.sendall(data[:room])
                sent += min(room, len(data))
            if len(data) > room:
                self.held.set()  # the server's bytes from here on go nowhere

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)


def _read_request(client: socket.socket) -> str:
    """The request's head; its first line is what `HttpFault.requests` records."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


class HttpFault(_Server):
    """An HTTP/1.1 server that reads a request, then does `behaviour` with the socket."""

    def __init__(self, behaviour: Callable[[HttpFault, socket.socket], None]) -> None:
        self._behaviour = behaviour
        #: Each request's line (method, path and query), in the order they came.
        self.requests: list[str] = []
        super().__init__()

    def serve(self, client: socket.socket) -> None:
        self.requests.append(_read_request(client))
        self._behaviour(self, client)


_CHUNK = b"[" * 65536  # never valid JSON, so a reader that stopped early cannot succeed


def huge_content_length(server: HttpFault, client: socket.socket) -> None:
    """`Content-Length: 10 GiB`, and the bytes to go with it for as long as anyone reads."""
    client.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n"
    )
    while not server.stopped(0):
        client.sendall(_CHUNK)


def endless_chunked(server: HttpFault, client: socket.socket) -> None:
    """A chunked body that never ends."""
    client.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    frame = b"%x\r\n" % len(_CHUNK) + _CHUNK + b"\r\n"
    while not server.stopped(0):
        client.sendall(frame)


def one_byte_a_second(server: HttpFault, client: socket.socket) -> None:
    """Headers at once, then a body of one byte a second (each read is quick: no read timeout)."""
    client.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    )
    while not server.stopped(1.0):
        client.sendall(b" ")


def never_answers(server: HttpFault, client: socket.socket) -> None:
    """Accepts and reads the request, then says nothing."""
    server.stopped(3600)


FAULTS: dict[str, Callable[[HttpFault, socket.socket], None]] = {
    "10 GiB Content-Length": huge_content_length,
    "endless chunked body": endless_chunked,
    "one byte a second": one_byte_a_second,
    "accepts, never answers": never_answers,
}


def always_429(server: HttpFault, client: socket.socket) -> None:
    """Too Many Requests, for every request."""
    client.sendall(
        b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )


def truncated_json(server: HttpFault, client: socket.socket) -> None:
    """A 200 whose JSON stops halfway."""
    body = b'{"response": {"store_items": [{"appid": 10, "success": 1, "ty'
    client.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )


#: What an unhealthy store (GetItems) does besides the faults above.
STORE_DOWN: dict[str, Callable[[HttpFault, socket.socket], None]] = {
    "429": always_429,
    "truncated JSON": truncated_json,
    "one byte a second": one_byte_a_second,
    "accepts, never answers": never_answers,
    "10 GiB Content-Length": huge_content_length,
}

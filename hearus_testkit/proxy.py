"""A TCP relay in front of a server, whose connections can be cut the way networks cut them:
the client gets a reset (no websocket close) or nothing at all, the server gets nothing at all
and keeps a half-dead socket until it notices by itself (a laptop changing networks, a NAT
forgetting)."""

import contextlib
import selectors
import socket
import struct
import threading

from hearus_testkit.daphne import free_port


class CuttableRelay:
    """Relays 127.0.0.1:`port` to 127.0.0.1:`upstream_port`, on one thread of its own."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._peers: dict[socket.socket, socket.socket] = {}  # both directions
        self._hanging: list[socket.socket] = []  # server sides of cut connections
        self._cut_requested = threading.Event()
        self._cut_done = threading.Event()
        self._cut_count = 0
        self._silently = False
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self, *, silently: bool = False) -> int:
        """Stop relaying every open connection: the client's side gets a reset (or, `silently`,
        nothing at all: both sides then hold an open socket that nothing reaches); the server's
        side stays open and silent. Returns how many connections were cut."""
        self._silently = silently
        self._cut_done.clear()
        self._cut_requested.set()
        self._cut_done.wait(5)
        return self._cut_count

    def close(self) -> None:
        self._closed.set()
        self._thread.join(5)
        for sock in [*self._peers, *self._hanging, self._listener]:
            sock.close()

    def _loop(self) -> None:
        while not self._closed.is_set():
            if self._cut_requested.is_set():
                self._cut_requested.clear()
                self._cut_all()
                self._cut_done.set()
            for key, _events in self._selector.select(timeout=0.02):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    self._accept()
                else:
                    self._relay(sock)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        except OSError:
            _reset(client)  # as the server itself would: nobody there
            return
        for sock in (client, upstream):
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ)
        self._peers[client] = upstream
        self._peers[upstream] = client

    def _relay(self, source: socket.socket) -> None:
        target = self._peers[source]
        try:
            data = source.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(source, target)
            return
        try:
            target.setblocking(True)  # a short block beats losing bytes of a live stream
            target.sendall(data)
            target.setblocking(False)
        except OSError:
            self._drop(source, target)

    def _drop(self, one: socket.socket, other: socket.socket) -> None:
        for sock in (one, other):
            self._peers.pop(sock, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)
            sock.close()

    def _cut_all(self) -> None:
        clients = [sock for sock in self._peers if sock.getsockname()[1] == self.port]
        self._cut_count = len(clients)
        for client in clients:
            upstream = self._peers.pop(client)
            self._peers.pop(upstream, None)
            for sock in (client, upstream):
                self._selector.unregister(sock)
            self._hanging.append(upstream)  # never read, never written, never closed
            if self._silently:
                self._hanging.append(client)
            else:
                _reset(client)


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0) rather than an orderly FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()

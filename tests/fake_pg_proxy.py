"""A TCP proxy in front of the test PostgreSQL that can make the database go away.

`database_behind_proxy(url)` yields (proxied url, proxy); `proxy.go_away()` drops every
open connection and refuses new ones, as a database that crashed or lost its network does.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from psycopg.conninfo import conninfo_to_dict, make_conninfo


class PgProxy:
    def __init__(self, target: tuple[int, object]) -> None:
        self.family, self.address = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.socket(self.family, socket.SOCK_STREAM)
            server.connect(self.address)
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def go_away(self) -> None:
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


@contextmanager
def database_behind_proxy(url: str) -> Iterator[tuple[str, PgProxy]]:
    params = conninfo_to_dict(url)
    host, port = params.get("host") or "localhost", int(params.get("port") or 5432)
    if host.startswith("/"):
        target: tuple[int, object] = (socket.AF_UNIX, f"{host}/.s.PGSQL.{port}")
    else:
        target = (socket.AF_INET, (host, port))
    proxy = PgProxy(target)
    try:
        yield make_conninfo(url, host="127.0.0.1", port=str(proxy.port)), proxy
    finally:
        proxy.go_away()

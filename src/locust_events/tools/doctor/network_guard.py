"""Keeping listeners off the network while the doctor calls them: attempts blocked and recorded."""

from __future__ import annotations

import _socket
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import gevent.monkey
import gevent.socket

__all__ = ["NetworkGuard", "TrafficBlocked"]


class TrafficBlocked(ConnectionError):
    """Raised in a listener that reaches for the network while the doctor examines it."""


def _address(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(address)


def _command(args: Any) -> str:
    """A command line as a person reads it, shortened."""
    try:
        text = args if isinstance(args, (str, bytes)) else " ".join(map(str, args))
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    except Exception:
        text = "(a command)"
    return repr(text if len(text) <= 80 else text[:77] + "...")


#: The ``os`` functions that start or replace a process (``os.spawn*`` and ``os.exec*`` go
#: through ``fork`` and ``execv``/``execve``).
_PROCESS_FUNCTIONS = (
    "system",
    "popen",
    "fork",
    "forkpty",
    "posix_spawn",
    "posix_spawnp",
    "execv",
    "execve",
)


class NetworkGuard:
    """Makes connections, sends, name look-ups and new processes raise :class:`TrafficBlocked`,
    and records them.

    Patches the stdlib's, ``_socket``'s and gevent's socket classes (TLS ones too) and module
    functions, and the ways to start a process (``os.system``, ``subprocess.Popen`` and
    gevent's, ``os.fork``, ``os.exec*``, ``os.posix_spawn``: a command such as ``curl`` reaches
    the network too) while it is entered, and puts every original back on exit. Sockets a C
    extension makes on its own are out of its reach.
    """

    def __init__(self) -> None:
        #: What listeners tried, e.g. "connect to 127.0.0.1:8089", in order.
        self.attempts: list[str] = []
        self._undo: list[Callable[[], None]] = []

    def __enter__(self) -> NetworkGuard:
        block = self._block

        def connect(sock: Any, address: Any, *args: Any) -> NoReturn:
            block(f"connect to {_address(address)}")

        def send(sock: Any, *args: Any, **kwargs: Any) -> NoReturn:
            try:
                peer = _address(sock.getpeername())
            except OSError:
                peer = "an unconnected socket"
            block(f"send to {peer}")

        def sendto(sock: Any, data: Any, *args: Any) -> NoReturn:
            block(f"send to {_address(args[-1] if args else None)}")

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> NoReturn:
            block(f"connect to {_address(address)}")

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> NoReturn:
            block(f"resolve {_address((host, port))}" if port else f"resolve {host}")

        def gethostbyname(host: Any, *args: Any) -> NoReturn:
            block(f"resolve {host}")

        socket_classes = {
            gevent.monkey.get_original("socket", "socket"),
            socket.socket,
            gevent.socket.socket,
        }
        # TLS sockets send through methods of their own; none exist unless ssl was imported.
        if "ssl" in sys.modules:
            socket_classes.add(gevent.monkey.get_original("ssl", "SSLSocket"))
            socket_classes.add(sys.modules["ssl"].SSLSocket)
        for cls in socket_classes:
            for name, replacement in (
                ("connect", connect),
                ("connect_ex", connect),
                ("send", send),
                ("sendall", send),
                ("sendmsg", send),
                ("sendto", sendto),
            ):
                self._replace(cls, name, replacement)
        for module in {socket, gevent.socket}:
            for name, function in (
                ("create_connection", create_connection),
                ("getaddrinfo", getaddrinfo),
                ("gethostbyname", gethostbyname),
                ("gethostbyname_ex", gethostbyname),
            ):
                self._replace(module, name, function)
        self._guard_low_level_sockets(connect, send, sendto, getaddrinfo, gethostbyname)
        self._guard_processes()
        return self

    def _guard_low_level_sockets(self, *replacements: Callable[..., NoReturn]) -> None:
        """``_socket``, beneath ``socket``: its socket type cannot be patched (a C type), so
        the module's name is pointed at a subclass that blocks, as are its functions."""
        connect, send, sendto, getaddrinfo, gethostbyname = replacements
        original = gevent.monkey.get_original("_socket", "socket")
        methods: dict[str, object] = {
            "connect": connect,
            "connect_ex": connect,
            "send": send,
            "sendall": send,
            "sendmsg": send,
            "sendto": sendto,
            "__module__": __name__,
        }
        guarded = type("GuardedSocket", (original,), methods)
        self._replace(_socket, "socket", guarded)
        self._replace(_socket, "SocketType", guarded)
        for name, function in (
            ("getaddrinfo", getaddrinfo),
            ("gethostbyname", gethostbyname),
            ("gethostbyname_ex", gethostbyname),
        ):
            self._replace(_socket, name, function)

    def _guard_processes(self) -> None:
        block = self._block

        def run(*args: Any, **kwargs: Any) -> NoReturn:
            command = args[0] if args else kwargs.get("args", kwargs.get("path", "(a command)"))
            block(f"run the command {_command(command)}")

        def popen_init(
            popen: Any, args: Any = "(a command)", *more: Any, **kwargs: Any
        ) -> NoReturn:
            block(f"run the command {_command(args)}")

        for name in _PROCESS_FUNCTIONS:
            if hasattr(os, name):
                self._replace(os, name, run)
        popen_classes = {subprocess.Popen, gevent.monkey.get_original("subprocess", "Popen")}
        if "gevent.subprocess" in sys.modules:
            popen_classes.add(sys.modules["gevent.subprocess"].Popen)
        for cls in popen_classes:
            self._replace(cls, "__init__", popen_init)

    def __exit__(self, *exc_info: object) -> None:
        while self._undo:
            self._undo.pop()()

    def _block(self, what: str) -> NoReturn:
        self.attempts.append(what)
        raise TrafficBlocked(
            f"the locust_events doctor blocked an attempt to {what}: listeners may not reach "
            "the network while the doctor examines them"
        )

    def _replace(self, owner: Any, name: str, replacement: object) -> None:
        if name in vars(owner):
            original = vars(owner)[name]
            self._undo.append(lambda: setattr(owner, name, original))
        else:  # inherited: deleting ours uncovers it again
            self._undo.append(lambda: delattr(owner, name))
        setattr(owner, name, replacement)

"""A local target for the examples and the demo: gevent WSGI on 127.0.0.1 with a webhook receiver.

Run it with ``python -m locust_events target``; it prints the URL it listens on.
"""

from __future__ import annotations

import argparse
import json
import socket
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from gevent.pywsgi import WSGIServer

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["PAGES", "Target", "add_parser", "read_webhook_count", "run", "serve"]

#: Where the target listens; it never binds anything but the loopback interface.
HOST = "127.0.0.1"

#: The paths the examples request, with the content type and body each one serves.
PAGES: dict[str, tuple[str, bytes]] = {
    "/": ("text/html", b"<html><body><h1>locust-events target</h1></body></html>"),
    "/page": ("text/html", b"<html><body><p>" + b"a page of text " * 64 + b"</p></body></html>"),
    "/api/data": ("application/json", json.dumps({"items": list(range(32))}).encode()),
    "/api/environment": ("application/json", b'{"environment": "local", "healthy": true}'),
}

_StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class _NoDelayServer(WSGIServer):
    """A WSGI server that sends each response at once (TCP_NODELAY on every connection).

    pywsgi writes a response's headers and body separately; with Nagle's algorithm on, the
    client's delayed ACK then holds every keep-alive response back by about 40 ms.
    """

    def handle(self, sock: socket.socket, address: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


class Target:
    """The target server: serves :data:`PAGES`, receives webhooks, counts both.

    ``POST /webhook`` with a JSON body counts one webhook call (by its ``event`` key, when it
    has one); ``GET /webhook/count`` answers ``{"received": n, "by_event": {...}}`` and
    ``GET /served`` how many requests each page got.

    :param port: the port to bind on 127.0.0.1; 0 picks a free one (read it from :attr:`url`).
    :param fail_every: answer every n-th ``/api/data`` request with 503, so examples see
        failures; 0 never fails.
    """

    def __init__(self, port: int = 0, *, fail_every: int = 0) -> None:
        self.fail_every = fail_every
        #: Webhook calls received, by their ``event`` (``""`` when the body names none).
        self.webhooks: Counter[str] = Counter()
        #: Requests served, by path.
        self.served: Counter[str] = Counter()
        self._server = _NoDelayServer((HOST, port), self._app, log=None, error_log=None)

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:43127``; the port is known once started."""
        return f"http://{HOST}:{self._server.server_port}"

    @property
    def webhook_count(self) -> int:
        """How many webhook calls arrived so far."""
        return sum(self.webhooks.values())

    def start(self) -> Target:
        """Start serving in the background (in gevent's hub); returns the target itself."""
        self._server.start()
        return self

    def serve_forever(self) -> None:
        """Serve until the process is interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.stop(timeout=1)

    def _app(self, environ: dict[str, Any], start_response: _StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/webhook" and method == "POST":
            return self._receive_webhook(environ, start_response)
        if path == "/webhook/count":
            count = {"received": self.webhook_count, "by_event": dict(self.webhooks)}
            return _respond(start_response, "200 OK", "application/json", json.dumps(count))
        if path == "/served":
            served = json.dumps(dict(self.served))
            return _respond(start_response, "200 OK", "application/json", served)
        page = PAGES.get(path)
        if page is None:
            return _respond(start_response, "404 Not Found", "text/plain", "not found")
        self.served[path] += 1
        if path == "/api/data" and self.fail_every and self.served[path] % self.fail_every == 0:
            return _respond(start_response, "503 Service Unavailable", "text/plain", "try again")
        content_type, body = page
        return _respond(start_response, "200 OK", content_type, body)

    def _receive_webhook(
        self, environ: dict[str, Any], start_response: _StartResponse
    ) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return _respond(start_response, "400 Bad Request", "text/plain", "send JSON")
        event = payload.get("event", "") if isinstance(payload, dict) else ""
        self.webhooks[str(event)] += 1
        return _respond(start_response, "204 No Content", "text/plain", b"")


def _respond(
    start_response: _StartResponse, status: str, content_type: str, body: str | bytes
) -> list[bytes]:
    data = body.encode() if isinstance(body, str) else body
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
    return [data]


def read_webhook_count(base_url: str, timeout: float = 5.0) -> dict[str, Any]:
    """Ask a running target how many webhook calls it received: ``{"received", "by_event"}``."""
    if not base_url.startswith(f"http://{HOST}:"):
        raise ValueError(f"Only a target on {HOST} can be asked, not {base_url!r}")
    # The scheme and host are checked above: this only ever opens http://127.0.0.1.
    with urllib.request.urlopen(f"{base_url}/webhook/count", timeout=timeout) as response:  # noqa: S310
        result: dict[str, Any] = json.loads(response.read())
    return result


def add_parser(subparsers: SubParsers) -> None:
    """Add the ``target`` command to the command line."""
    parser = subparsers.add_parser(
        "target", help="serve the examples' local target on 127.0.0.1 until interrupted"
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument(
        "--fail-every", type=int, default=0, help="answer every n-th /api/data with 503"
    )


def run(args: argparse.Namespace) -> int:
    """Serve on ``args.port``, failing every ``args.fail_every``-th data request."""
    return serve(port=args.port, fail_every=args.fail_every)


def serve(port: int = 0, fail_every: int = 0) -> int:
    """Serve until interrupted, after printing the URL on one line (tests read it)."""
    target = Target(port, fail_every=fail_every).start()
    print(f"locust-events target listening on {target.url}", flush=True)
    try:
        target.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        target.stop()
    return 0

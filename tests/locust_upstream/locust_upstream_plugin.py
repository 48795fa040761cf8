"""A pytest plugin for running Locust's own tests against the installed Locust.

Loaded with ``-p locust_upstream_plugin`` by ``run.py`` (its directory on ``PYTHONPATH``),
never by our own suites. It

- makes Locust's test package importable as ``locust.test`` (the wheel does not ship it):
  ``LOCUST_UPSTREAM_OVERLAY`` names a directory holding ``locust/test``, added to the installed
  ``locust`` package's search path, so the tests import the installed Locust, not a checkout;
- keeps every master the tests start on 127.0.0.1 and off port 5557 (another run on this
  machine may own it): a bind or connect to 5557 fails the test, on both runs alike;
- with ``LOCUST_UPSTREAM_SWITCH=1``, imports ``locust_events.locust`` before any test: Locust's
  global hooks are then ours, and every ``Environment`` built without ``events=`` gets a fresh
  registry of ours, as a locustfile starting with that import runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import locust  # first: it monkey-patches the standard library, as Locust's own runs do
import locust.rpc.zmqrpc

#: Port Locust's master listens on by default: never bound or reached by this run.
DEFAULT_MASTER_PORT = 5557


def _overlay_locust_tests() -> None:
    overlay = os.environ.get("LOCUST_UPSTREAM_OVERLAY")
    if not overlay:
        raise RuntimeError(
            "LOCUST_UPSTREAM_OVERLAY is not set: run Locust's tests with "
            "tests/locust_upstream/run.py, which prepares it"
        )
    locust.__path__.append(str(Path(overlay) / "locust"))


def _refuse_default_port(port: int) -> None:
    if port == DEFAULT_MASTER_PORT:
        raise locust.rpc.zmqrpc.RPCError(
            f"this run keeps off port {DEFAULT_MASTER_PORT}, Locust's default master port"
        )


def _guard_master_ports() -> None:
    server_init = locust.rpc.zmqrpc.Server.__init__
    client_init = locust.rpc.zmqrpc.Client.__init__

    def bind_locally(self: Any, host: str, port: int) -> None:
        _refuse_default_port(port)
        server_init(self, "127.0.0.1" if host in ("*", "0.0.0.0", "") else host, port)

    def connect(self: Any, host: str, port: int, identity: str) -> None:
        _refuse_default_port(port)
        client_init(self, host, port, identity)

    locust.rpc.zmqrpc.Server.__init__ = bind_locally  # type: ignore[method-assign]
    locust.rpc.zmqrpc.Client.__init__ = connect  # type: ignore[method-assign]


_overlay_locust_tests()
_guard_master_ports()
if os.environ.get("LOCUST_UPSTREAM_SWITCH") == "1":
    import locust.env

    import locust_events
    import locust_events.locust  # the switch, as atop a locustfile

    # Not a run of stock Locust by mistake: both kinds of Environment are on ours.
    assert locust.events.request is locust_events.locust.events.request
    assert isinstance(locust.env.Environment().events, locust_events.Events)

"""Instructions to register per-user listeners under callgrind: is registration linear?

Run ``python benchmarks/callgrind_registration.py [USERS ...]`` (valgrind on PATH; default
10,000 and 20,000 users). Each count is one process that adds the bound method of every
user (one ``User`` class) to a registry's ``request`` hook and then removes them, last user
first, minus a process that registers none. Linear registration costs the same per user at
every size, so the last size costs its multiple of the first.
"""

from __future__ import annotations

import sys

from callgrind_count import callgrind_instructions

_PROGRAM = """
import sys
from locust_events import Events

class User:
    def on_request(self, request_type, name, **kwargs):
        pass

hook = Events().request
users = [User() for _ in range(int(sys.argv[1]))]
for user in users:
    hook.add_listener(user.on_request)
for user in reversed(users):
    hook.remove_listener(user.on_request)
"""


def main() -> None:
    sizes = [int(argument) for argument in sys.argv[1:]] or [10_000, 20_000]
    start_up = callgrind_instructions("-c", _PROGRAM, "0")
    counts = {}
    for users in sizes:
        counts[users] = callgrind_instructions("-c", _PROGRAM, str(users)) - start_up
        print(
            f"{users:>7,} users: {counts[users]:>15,} instructions, "
            f"{counts[users] / users:>9,.0f} per add and remove",
            flush=True,
        )
    first, last = sizes[0], sizes[-1]
    if last != first:
        print(f"{last:,} users cost {counts[last] / counts[first]:.2f}x {first:,}")


if __name__ == "__main__":
    main()

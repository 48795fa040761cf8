"""Run Locust's own test suite twice, on stock Locust and with every Environment on
locust_events, and fail if a test passes on stock but not on ours.

``python tests/locust_upstream/run.py [--tests DIR] [TEST_FILE ...]``

Locust's wheel and sdist do not ship its tests. ``--tests`` (or ``LOCUST_UPSTREAM_TESTS``)
names a checkout of Locust at the installed version (its ``locust/test``); without it, the
tests of the installed version's tag are cloned from Locust's repository (network needed).

The tests run against the installed Locust (see ``locust_upstream_plugin``). A test whose
outcome differs between the two runs is run again, alone, on both: only a difference seen
twice counts, so a timing-sensitive test that flaked once on a busy machine does not. A
difference listed in ``KNOWN_DIFFERENCES`` is reported with its reason and does not fail.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import xml.etree.ElementTree as ElementTree
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPOSITORY = "https://github.com/locustio/locust"

#: Locust's test files about events, runners, environments, users, clients and statistics:
#: the ones our dispatcher can change. Left out: those that start ``locust`` processes (on
#: fixed ports, 5557 among them: test_main, test_log, test_html_filename), and those about
#: the argument parser, locustfile loading, the RPC layer alone, the users' dispatch and wait
#: times (arithmetic and timing, no event), dates and small utilities.
DEFAULT_FILES = (
    "test_runners.py",
    "test_env.py",
    "test_locust_class.py",
    "test_users.py",
    "test_stats.py",
    "test_http.py",
    "test_fasthttp.py",
    "test_web.py",
    "test_csv_request_logger.py",
    "test_debugging.py",
    "test_tags.py",
    "test_taskratio.py",
    "test_sequential_taskset.py",
    "test_markov_taskset.py",
    "test_interruptable_task.py",
)

#: Tests that pass on stock Locust and fail with every Environment on ours, on purpose, by
#: pytest node id (relative to ``locust/test``): why each differs.
KNOWN_DIFFERENCES: dict[str, str] = {}

#: Locust's own pytest settings (from its pyproject), for the overlay it runs from.
PYTEST_INI = """\
[pytest]
filterwarnings =
    ignore::gevent.monkey.MonkeyPatchWarning
    ignore::DeprecationWarning:gevent
"""


def locust_tests(given: str | None, workdir: Path) -> Path:
    """Locust's ``locust/test`` directory: the one given, else a clone of the installed tag."""
    if given:
        path = Path(given).resolve()
        for candidate in (path / "locust" / "test", path):
            if (candidate / "testcases.py").is_file():
                return candidate
        sys.exit(f"run.py: no Locust test package (locust/test/testcases.py) under {path}")
    tag = version("locust")
    checkout = workdir / "checkout"
    print(f"Cloning Locust {tag}'s tests from {REPOSITORY} ...", flush=True)
    subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", "--branch", tag, REPOSITORY, str(checkout)],
        check=True,
    )
    return checkout / "locust" / "test"


def make_overlay(tests: Path, workdir: Path) -> Path:
    """``workdir/overlay/locust/test``, a copy of ``tests``, found as ``locust.test``."""
    overlay = workdir / "overlay"
    shutil.copytree(tests, overlay / "locust" / "test")
    # Only for pytest to name the modules locust.test.*; the installed locust is imported.
    (overlay / "locust" / "__init__.py").write_text("")
    (overlay / "pytest.ini").write_text(PYTEST_INI)
    return overlay


def run_pytest(
    overlay: Path, node_ids: list[str], switched: bool, report: Path, workdir: Path
) -> dict[str, str]:
    """Run ``node_ids`` on stock Locust or switched; each test's outcome by node id."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(HERE), environment.get("PYTHONPATH")])
    )
    environment["LOCUST_UPSTREAM_OVERLAY"] = str(overlay)
    environment["LOCUST_UPSTREAM_SWITCH"] = "1" if switched else "0"
    scratch = workdir / ("scratch-ours" if switched else "scratch-stock")
    scratch.mkdir(exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "locust_upstream_plugin",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(overlay),
        "-c",
        str(overlay / "pytest.ini"),
        "-q",
        "--no-header",
        "-o",
        "console_output_style=classic",
        f"--junitxml={report}",
        *(str(overlay / "locust" / "test" / node_id) for node_id in node_ids),
    ]
    subprocess.run(command, cwd=scratch, env=environment, check=False, timeout=3600)
    return outcomes(report)


def outcomes(report: Path) -> dict[str, str]:
    """passed, failed, error or skipped, by node id (``test_x.py::Class::test``)."""
    found: dict[str, str] = {}
    for case in ElementTree.parse(report).iter("testcase"):
        module, _, cls = case.get("classname", "").removeprefix("locust.test.").partition(".")
        node_id = "::".join(filter(None, [f"{module}.py", cls, case.get("name", "")]))
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "failed" if child.tag == "failure" else child.tag
        # A test that failed and then errored in teardown is listed twice: keep the worst.
        if found.get(node_id, "passed") == "passed" or outcome == "error":
            found[node_id] = outcome
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", default=os.environ.get("LOCUST_UPSTREAM_TESTS"))
    parser.add_argument("files", nargs="*", default=list(DEFAULT_FILES))
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="locust-upstream-") as directory:
        workdir = Path(directory)
        overlay = make_overlay(locust_tests(args.tests, workdir), workdir)
        print(f"Locust {version('locust')}: {len(args.files)} test files, stock run", flush=True)
        stock = run_pytest(overlay, args.files, False, workdir / "stock.xml", workdir)
        print("Same tests, every Environment on locust_events", flush=True)
        ours = run_pytest(overlay, args.files, True, workdir / "ours.xml", workdir)
        differing = sorted(
            node_id
            for node_id in stock.keys() | ours.keys()
            if stock.get(node_id) != ours.get(node_id)
        )
        stock_again: dict[str, str] = {}
        ours_again: dict[str, str] = {}
        if differing:
            print(f"Running the {len(differing)} differing test(s) again, on both", flush=True)
            stock_again = run_pytest(overlay, differing, False, workdir / "stock2.xml", workdir)
            ours_again = run_pytest(overlay, differing, True, workdir / "ours2.xml", workdir)
    counts = {side: _count(found) for side, found in (("stock", stock), ("ours", ours))}

    def seen_twice(node_id: str, stock_passes: bool) -> bool:
        """Whether stock passed (or failed) on both runs and ours the opposite on both."""
        runs = (stock, stock_again, ours, ours_again)
        passed = [found.get(node_id) == "passed" for found in runs]
        return passed == [stock_passes, stock_passes, not stock_passes, not stock_passes]

    confirmed = [node_id for node_id in differing if seen_twice(node_id, True)]
    only_ours = [node_id for node_id in differing if seen_twice(node_id, False)]
    flaky = [node_id for node_id in differing if node_id not in confirmed + only_ours]
    print()
    print(f"stock Locust:       {counts['stock']}")
    print(f"on locust_events:   {counts['ours']}")
    for title, node_ids in (
        ("Passes on ours only", only_ours),
        ("Differed once, not again (timing-sensitive on a busy machine)", flaky),
    ):
        if node_ids:
            print(f"{title}:")
            print(textwrap.indent("\n".join(node_ids), "  "))
    known = [node_id for node_id in confirmed if node_id in KNOWN_DIFFERENCES]
    unexplained = [node_id for node_id in confirmed if node_id not in KNOWN_DIFFERENCES]
    for node_id in known:
        print(f"Known difference: {node_id}: {KNOWN_DIFFERENCES[node_id]}")
    for node_id in unexplained:
        print(
            f"FAILS ON OURS ONLY: {node_id} ({ours.get(node_id)}, again {ours_again.get(node_id)})"
        )
    print(f"({time.monotonic() - started:.0f} s)")
    if not any(outcome == "passed" for outcome in stock.values()):
        print("The stock run passed no test: the set-up is broken (see its output above)")
        return 1
    return 1 if unexplained else 0


def _count(found: dict[str, str]) -> str:
    tally = {outcome: 0 for outcome in ("passed", "failed", "error", "skipped")}
    for outcome in found.values():
        tally[outcome] += 1
    return ", ".join(f"{count} {outcome}" for outcome, count in tally.items())


if __name__ == "__main__":
    sys.exit(main())

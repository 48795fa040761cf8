"""Build the distributions an index accepts, and check them: ``tox -e release``.

1. the sdist, with ``python -m build --sdist``;
2. from that sdist, one wheel per CPython this machine has (3.10 and up: the running one and
   every pyenv version), each compiled, never the pure-Python fallback;
3. ``auditwheel repair`` gives each a manylinux tag (the oldest glibc its symbols allow),
   ``auditwheel show`` prints what it found;
4. checks every wheel's tags (CPython ABI, manylinux, no bare ``linux_*``), that it carries the
   compiled extension and the LICENSE, and that the sdist carries the LICENSE and everything
   its test suite needs;
5. ``twine check --strict`` on everything in ``dist/``;
6. unpacks the sdist, installs the wheel for the running Python into a fresh virtual
   environment with the unit tests' dependencies, collects every unpacked unit test (each
   module imports) and runs :data:`UNIT_SUBSET` (both calling loops) and :data:`E2E_SUBSET`
   there: what proves the sdist's suite runs against the wheel, not the whole suite again (the
   py3XX environments run that); ``--collect-only`` of the whole suite with ``--quick``.

Release CI on other platforms uses cibuildwheel instead (``[tool.cibuildwheel]`` in
``pyproject.toml``); this script is what a maintainer runs on a Linux machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
import zipfile
from pathlib import Path

from packaging.utils import parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
#: What the unpacked sdist must hold for its test suite to run (besides the test modules).
SDIST_MUST_HOLD = (
    "LICENSE",
    "README.md",
    "CHANGELOG.md",
    "pyproject.toml",
    "setup.py",
    "tox.ini",
    "src/locust_events/_speedups.c",
    "src/locust_events/_call_queue_compiled.pxd",
    "src/locust_events/_spawned_compiled.pxd",
    "src/locust_events/_batching_compiled.pxd",
    "src/locust_events/_batch_event_compiled.pxd",
    "tests/__init__.py",
    "tests/unit/conftest.py",
    "tests/e2e/locust_support.py",
    "tests/e2e/locustfiles/recording.py",
    "tests/e2e/typing_samples/pass_listeners.py",
    "benchmarks/conftest.py",
    "examples/quickstart.py",
    "docs/index.md",
)
#: The compiled modules every wheel must carry: the C calling loop, and the spawned path's
#: modules Cython compiles from their .py files.
COMPILED_MODULES = (
    "_speedups",
    "_call_queue_compiled",
    "_spawned_compiled",
    "_batching_compiled",
    "_batch_event_compiled",
)
#: The unit tests the release runs from the unpacked sdist: short, and what a broken wheel would
#: fail first (the compiled module, each twin against its pair, the calling loop on both).
UNIT_SUBSET = (
    "tests/unit/test_speedups_module.py",
    "tests/unit/test_twins.py",
    "tests/unit/test_implementation.py",
    "tests/unit/test_calling_loop.py",
)
#: The end-to-end tests the release runs besides them: a real Locust run on each calling loop.
E2E_SUBSET = ("tests/e2e/test_calling_loop_in_children.py",)


def run(*command: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run ``command``, echo it and its output, and stop the release on failure."""
    print("$", " ".join(str(part) for part in command), flush=True)
    result = subprocess.run(  # noqa: S603 - our own fixed commands
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        print(output)
        raise SystemExit(f"release: {command[0]} failed with exit status {result.returncode}")
    return output


def cpythons() -> list[Path]:
    """The running interpreter and every pyenv CPython 3.10+, one per minor version."""
    found: dict[str, Path] = {f"{sys.version_info[0]}.{sys.version_info[1]}": Path(sys.executable)}
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for python in sorted(root.glob("3.*/bin/python3")):
        minor = ".".join(python.parent.parent.name.split(".")[:2])
        if int(minor.split(".")[1]) >= 10:
            found.setdefault(minor, python)
    return [found[minor] for minor in sorted(found, key=lambda v: int(v.split(".")[1]))]


def build_sdist() -> Path:
    run(sys.executable, "-m", "build", "--sdist", "--outdir", DIST, ROOT)
    (sdist,) = DIST.glob("*.tar.gz")
    return sdist


def build_wheels(sdist: Path, raw: Path) -> None:
    for python in cpythons():
        # From the sdist, as an installer would: proves the sdist builds.
        run(python, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-w", raw, sdist)


def repair_wheels(raw: Path) -> list[Path]:
    for wheel in sorted(raw.glob("*.whl")):
        run("auditwheel", "repair", "--wheel-dir", DIST, wheel)
    wheels = sorted(DIST.glob("*.whl"))
    for wheel in wheels:
        print(run("auditwheel", "show", wheel).strip())
    return wheels


def check_wheel(wheel: Path) -> list[str]:
    """What is wrong with ``wheel`` for an index and for users; empty when nothing is."""
    problems = []
    _name, _version, _build, tags = parse_wheel_filename(wheel.name)
    for tag in tags:
        if not tag.platform.startswith("manylinux"):
            problems.append(f"{wheel.name}: platform tag {tag.platform} is not manylinux")
        if not tag.interpreter.startswith("cp") or tag.abi != tag.interpreter:
            problems.append(f"{wheel.name}: tag {tag} is not a CPython ABI tag")
    names = zipfile.ZipFile(wheel).namelist()
    for module in COMPILED_MODULES:
        if not any(
            name.startswith(f"locust_events/{module}.") and name.endswith(".so") for name in names
        ):
            problems.append(f"{wheel.name}: no compiled locust_events/{module} extension")
    if "locust_events/_build_failed.txt" in names:
        problems.append(f"{wheel.name}: a compiled module failed to compile")
    if not any(name.endswith(".dist-info/licenses/LICENSE") for name in names):
        problems.append(f"{wheel.name}: no LICENSE in its .dist-info")
    return problems


def check_sdist(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        names = {name.removeprefix(top + "/") for name in archive.getnames()}
    tests_in_checkout = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "tests").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    missing = sorted((set(SDIST_MUST_HOLD) | tests_in_checkout) - names)
    return [f"{sdist.name}: does not hold {name}" for name in missing]


def run_sdist_tests(sdist: Path, wheels: list[Path], quick: bool) -> None:
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    (wheel,) = [wheel for wheel in wheels if f"-{tag}-" in wheel.name]
    with tempfile.TemporaryDirectory(prefix="locust-events-sdist-") as workdir:
        with tarfile.open(sdist) as archive:
            archive.extractall(workdir, filter="data")
        (unpacked,) = Path(workdir).iterdir()
        environment = Path(workdir) / "venv"
        venv.create(environment, with_pip=True)
        python = environment / "bin" / "python"
        run(python, "-m", "pip", "install", "-q", "--upgrade", "pip")
        run(python, "-m", "pip", "install", "-q", f"{wheel}[locust,monitor]")
        group = "test" if quick else "unit"  # collecting every test imports what each needs
        groups = f"{unpacked / 'pyproject.toml'}:{group}"
        run(python, "-m", "pip", "install", "-q", "--group", groups)
        # From the work directory: ``-m`` puts the current directory first on sys.path.
        print(run(python, "-m", "locust_events", "--version", cwd=Path(workdir)).strip())
        env = {**os.environ, "LOCUST_EVENTS_EXPECT_COMPILED": "1"}
        env.pop("LOCUST_EVENTS_PURE", None)
        # The pytest script, not ``python -m pytest``, which would put the unpacked source
        # first on sys.path and test it instead of the installed wheel.
        pytest = [
            environment / "bin" / "pytest",
            "-q",
            "--benchmark-disable",
            "-p",
            "no:cacheprovider",
        ]
        # Run from outside the unpacked tree, so that ``python -m locust_events`` in the tests'
        # child processes imports the installed wheel, not the source beside it.
        suite: list[str | Path] = ["--rootdir", unpacked, "-c", unpacked / "pyproject.toml"]
        if quick:
            runs: list[list[str | Path]] = [
                ["--collect-only", unpacked / "tests", unpacked / "benchmarks"]
            ]
        else:
            runs = [
                ["--collect-only", unpacked / "tests" / "unit"],
                [unpacked / test for test in (*UNIT_SUBSET, *E2E_SUBSET)],
            ]
        for tests in runs:
            output = run(*pytest, *suite, *tests, cwd=Path(workdir), env=env)
            print(output.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="only collect the unpacked sdist's tests"
    )
    args = parser.parse_args()
    shutil.rmtree(DIST, ignore_errors=True)
    DIST.mkdir()
    sdist = build_sdist()
    with tempfile.TemporaryDirectory(prefix="locust-events-raw-wheels-") as raw:
        build_wheels(sdist, Path(raw))
        wheels = repair_wheels(Path(raw))
    problems = check_sdist(sdist) + [problem for wheel in wheels for problem in check_wheel(wheel)]
    if problems:
        print("\n".join(problems))
        return 1
    print(run("twine", "check", "--strict", *sorted(DIST.iterdir())).strip())
    run_sdist_tests(sdist, wheels, quick=args.quick)
    print("\nReady to upload (twine upload dist/*):")
    for path in sorted(DIST.iterdir()):
        print(f"  {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

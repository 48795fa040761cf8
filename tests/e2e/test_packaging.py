"""The installed distribution is one an index accepts and a user can find their way around.

These tests read the metadata of the installed copy (in tox, the built wheel), not
``pyproject.toml``, so they check what would actually be uploaded.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from trove_classifiers import classifiers as valid_classifiers
from trove_classifiers import deprecated_classifiers

import locust_events

DISTRIBUTION = metadata.distribution("locust-events")


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # From the directory that holds the imported package: ``-m`` puts the working directory
    # first on sys.path, and in a checkout or an unpacked sdist that holds the source copy.
    return subprocess.run(
        [sys.executable, "-m", "locust_events", *args],
        cwd=Path(locust_events.__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


def test_every_classifier_is_one_the_index_accepts() -> None:
    classifiers = DISTRIBUTION.metadata.get_all("Classifier") or []
    assert classifiers
    unknown = [name for name in classifiers if name not in valid_classifiers]
    assert not unknown, f"not trove classifiers (an upload would be refused): {unknown}"
    deprecated = [name for name in classifiers if name in deprecated_classifiers]
    assert not deprecated


def test_classifiers_name_each_supported_python_and_a_development_status() -> None:
    classifiers = DISTRIBUTION.metadata.get_all("Classifier") or []
    requires = DISTRIBUTION.metadata["Requires-Python"]
    oldest = re.fullmatch(r">=3\.(\d+)", requires)
    assert oldest is not None, requires
    versions = {
        int(name.rsplit(".", 1)[1])
        for name in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", name)
    }
    assert min(versions) == int(oldest.group(1))
    assert versions == set(range(min(versions), max(versions) + 1))
    assert any(name.startswith("Development Status :: ") for name in classifiers)


def test_the_metadata_names_an_author_a_license_and_the_project_urls() -> None:
    meta = DISTRIBUTION.metadata
    assert meta["Author"] or meta["Author-email"]
    assert meta["License-Expression"] == "MIT"
    urls = dict(url.split(", ", 1) for url in meta.get_all("Project-URL") or [])
    assert {"Homepage", "Documentation", "Changelog", "Issues"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values())


def test_the_license_file_is_installed_with_the_package() -> None:
    files = DISTRIBUTION.files or []
    (license_file,) = [file for file in files if file.name == "LICENSE"]
    assert "MIT License" in Path(str(license_file.locate())).read_text()


def test_users_extras_carry_no_development_tools() -> None:
    extras = set(DISTRIBUTION.metadata.get_all("Provides-Extra") or [])
    assert extras == {"locust", "monitor"}
    requirements = DISTRIBUTION.requires or []
    for tool in ("pytest", "mypy", "basedpyright", "hypothesis", "twine", "mkdocs"):
        assert not any(requirement.startswith(tool) for requirement in requirements), tool


def test_the_version_is_the_distributions() -> None:
    assert locust_events.__version__ == DISTRIBUTION.version


def test_version_says_which_calling_loop_runs() -> None:
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert line.startswith(f"locust-events {locust_events.__version__} on ")
    loop = "compiled" if locust_events.COMPILED else "pure Python, because "
    assert f"calling loop: {loop}" in line
    assert "\n" not in line


def test_version_says_why_the_loop_is_pure_python() -> None:
    result = run_cli("--version", LOCUST_EVENTS_PURE="1")
    assert result.stdout.strip().endswith(
        "calling loop: pure Python, because LOCUST_EVENTS_PURE is set in the environment"
    )


def test_a_failed_compile_at_install_is_reported_by_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from locust_events import _version

    note = tmp_path / _version.BUILD_FAILURE_NOTE
    note.write_text("error: command 'gcc' failed: No such file or directory\n")
    monkeypatch.setattr(_version, "__file__", str(tmp_path / "_version.py"))
    monkeypatch.setattr("locust_events._implementation.COMPILED", False)
    monkeypatch.delenv("LOCUST_EVENTS_PURE", raising=False)
    assert _version.loop_description() == (
        "pure Python, because the C extension failed to compile when this copy was installed: "
        "error: command 'gcc' failed: No such file or directory"
    )


#: Imports the Locust integration where the compiled loop cannot be loaded, as where it could
#: not be built, then builds Environments as a Locust run does.
_FIRST_LOCUST_RUN = """
import sys
sys.modules["locust_events._speedups"] = None
import locust_events.locust
from locust.env import Environment
Environment(); Environment()
import locust_events.locust
"""


def test_the_first_locust_run_says_once_that_the_compiled_loop_is_missing() -> None:
    pytest.importorskip("locust")
    from locust_events._install import rebuild_command

    result = subprocess.run(
        [sys.executable, "-c", _FIRST_LOCUST_RUN],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "LOCUST_EVENTS_PURE"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("locust_events runs its pure-Python calling loop") == 1
    assert "because the C extension is not installed or cannot be loaded" in result.stderr
    # For a copy running from its checkout: cd <checkout> && python setup.py build_ext --inplace
    assert f"rebuild it: {rebuild_command()}\n" in result.stderr


def test_the_console_script_runs_the_commands() -> None:
    scripts = [entry for entry in DISTRIBUTION.entry_points if entry.group == "console_scripts"]
    assert [(entry.name, entry.value) for entry in scripts] == [
        ("locust-events", "locust_events.tools.cli:main")
    ]
    script = Path(sys.executable).with_name("locust-events")
    if not script.exists():
        pytest.skip(f"this interpreter's scripts are not beside it ({sys.executable})")
    result = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: locust-events ")
    for command in ("demo", "doctor", "bench", "target"):
        assert command in result.stdout


SOURCE = Path(__file__).resolve().parents[2]


def test_a_wheel_built_without_a_compiler_says_why_it_runs_pure_python(tmp_path: Path) -> None:
    if not (SOURCE / "setup.py").is_file():
        pytest.fail(
            f"the tests need the project's source beside them (a checkout or the sdist): {SOURCE}"
        )
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "_build_failed.txt")
    shutil.copytree(SOURCE / "src", source / "src", ignore=ignore)
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy(SOURCE / name, source / name)
    # CC=false: the compiler "fails", as it does where none is installed.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "CC": "false", "PIP_NO_CACHE_DIR": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    build_output = result.stdout + result.stderr
    assert "WARNING: locust_events._speedups could not be compiled" in build_output  # pip -v
    # The command that rebuilds it names the source tree it was built from, not an index.
    rebuild = f"rebuild: {sys.executable} -m pip install --force-reinstall --no-deps --no-cache-dir"
    assert f"{rebuild} {source}" in build_output
    (wheel,) = tmp_path.glob("locust_events-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert not any(name.endswith(".so") for name in names)
        note = archive.read("locust_events/_build_failed.txt").decode()
    assert "false" in note  # the failed compiler command, for --version to show

"""Install hints that work on the machine reading them: an extra's requirements, and the
command that rebuilds the compiled loop from where this copy was installed."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from locust_events import _implementation, _install, _monitor, _version
from locust_events._install import InstallSource, extra_install_command, rebuild_command

PIP = f"{sys.executable} -m pip install"
REINSTALL = f"{PIP} --force-reinstall --no-deps --no-cache-dir"


def test_an_extras_hint_installs_its_requirements_from_this_copys_metadata() -> None:
    assert extra_install_command("monitor") == f"{PIP} 'psutil>=5.9'"
    assert extra_install_command("locust") == f"{PIP} 'locust>=2.43'"


def test_the_copy_under_test_knows_where_it_came_from() -> None:
    checkout = Path(__file__).resolve().parents[2]
    source = _install.install_source()
    if Path(_install.__file__).resolve().is_relative_to(checkout / "src"):  # an editable install
        assert source == InstallSource("checkout", str(checkout))
    else:  # tox installs the wheel it built from the checkout
        assert source.kind == "archive"
        assert source.location.endswith(".whl")


def test_a_source_tree_of_another_project_is_no_checkout_of_ours(tmp_path: Path) -> None:
    package = tmp_path / "src" / "locust_events"
    package.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "something-else"\n')
    assert _install.install_source(package).kind != "checkout"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "locust-events"\n')
    assert _install.install_source(package) == InstallSource("checkout", str(tmp_path))


@pytest.mark.parametrize(
    ("source", "command"),
    [
        (
            InstallSource("checkout", "/home/me/locust events"),
            f"cd '/home/me/locust events' && {sys.executable} setup.py build_ext --inplace",
        ),
        (InstallSource("directory", "/srv/locust-events"), f"{REINSTALL} /srv/locust-events"),
        (
            InstallSource("archive", "/tmp/locust_events-0.1.0.tar.gz"),
            f"{REINSTALL} /tmp/locust_events-0.1.0.tar.gz",
        ),
        (
            InstallSource("archive", "https://example.org/locust_events-0.1.0.tar.gz"),
            f"{REINSTALL} 'locust-events @ https://example.org/locust_events-0.1.0.tar.gz'",
        ),
        (
            InstallSource("vcs", "git+https://example.org/locust-events@0123abc"),
            f"{REINSTALL} 'locust-events @ git+https://example.org/locust-events@0123abc'",
        ),
        (
            InstallSource("archive", "/tmp/locust_events-0.1.0-py3-none-any.whl"),
            f"{REINSTALL} <a checkout or sdist of locust-events>",
        ),
        (InstallSource("unknown"), f"{REINSTALL} <a checkout or sdist of locust-events>"),
        (
            InstallSource("index"),
            f"{REINSTALL} --no-binary locust-events locust-events",
        ),
    ],
    ids=lambda value: value.kind if isinstance(value, InstallSource) else "",
)
def test_the_rebuild_command_reinstalls_from_where_the_copy_came(
    source: InstallSource, command: str
) -> None:
    assert rebuild_command(source) == command


def test_the_usage_monitor_without_psutil_says_the_command_that_installs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psutil", None)
    with pytest.raises(ImportError) as raised:
        _monitor.psutil_sampler()
    assert f"({PIP} 'psutil>=5.9')" in str(raised.value)


@pytest.fixture
def without_the_compiled_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """As where the C extension could not be built: not compiled, pure Python not asked."""
    monkeypatch.setattr(_implementation, "COMPILED", False)
    monkeypatch.setattr("locust_events._settings.PURE_LOOP_REQUESTED", False)
    monkeypatch.setattr(_version, "_warned_not_compiled", False)


@pytest.mark.usefixtures("without_the_compiled_loop")
def test_a_missing_compiled_loop_is_said_once_with_the_command_that_rebuilds_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="locust_events")
    assert _version.warn_once_if_not_compiled() is True
    assert _version.warn_once_if_not_compiled() is False
    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith("locust_events runs its pure-Python calling loop")
    assert message.endswith(f"rebuild it: {rebuild_command()}")


@pytest.mark.usefixtures("without_the_compiled_loop")
def test_pure_python_asked_for_is_not_warned_about(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("locust_events._settings.PURE_LOOP_REQUESTED", True)
    assert _version.warn_once_if_not_compiled() is False
    assert caplog.records == []

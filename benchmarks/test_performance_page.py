"""The performance page's writer, fed a made-up run (no benchmark is timed here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from locust_events.tools.bench import TARGETS, Timing, Timings

from .performance_page import QUOTING_PAGES, Machine, fill_figures, render, write_page

MACHINE = Machine(
    cpu="Test CPU 3000",
    cpus=2,
    system="Linux-6.1",
    python="CPython 3.11.9",
    calling_loop="compiled",
    date="2026-01-31",
    load=1.5,
)


def made_up_run() -> Timings:
    """1 listener: the direct call 100 ns, the compiled fire 110 ns, Locust's 200 ns."""
    return {
        "1 listener": {
            "direct call of the listener": Timing(100e-9, 95e-9, 104e-9, 90e-9, 130e-9, 300),
            "compiled fire": Timing(110e-9, 108e-9, 113e-9, 100e-9, 150e-9, 300),
            "Locust's EventHook.fire": Timing(200e-9, 190e-9, 210e-9, 180e-9, 260e-9, 300),
        },
        "spawned listener": {
            "direct call": Timing(100e-9, 99e-9, 101e-9, 98e-9, 102e-9, 300),
            "fire, spawned no-op listener (enqueue)": Timing(125e-9, 120e-9, 130e-9, 1, 1, 300),
        },
    }


def test_the_page_states_the_machine_the_python_and_the_date() -> None:
    page = render(made_up_run(), {"spawned listener": "direct call"}, MACHINE)
    assert "| date | 2026-01-31 |" in page
    assert "| machine | Test CPU 3000, 2 CPUs, Linux-6.1 |" in page
    assert "| Python | CPython 3.11.9, compiled calling loop |" in page
    assert "| load average, 15 minutes, at the end | 1.50 on 2 CPUs |" in page


def test_each_row_is_its_median_spread_and_ratio_to_the_baseline_of_its_group() -> None:
    page = render(made_up_run(), {"spawned listener": "direct call"}, MACHINE)
    assert "| compiled fire | 110.0 | 108.0 to 113.0 | 300 | 1.10 |" in page
    assert "| Locust's EventHook.fire | 200.0 | 190.0 to 210.0 | 300 | 2.00 |" in page
    assert (
        "| fire, spawned no-op listener (enqueue) | 125.0 | 120.0 to 130.0 | 300 | 1.25 |" in page
    )
    assert "Baseline: direct call of the listener." in page


def test_the_targets_are_judged_on_the_run() -> None:
    (first,) = [target for target in TARGETS if target.label == "compiled fire"][:1]
    page = render(made_up_run(), {}, MACHINE)
    assert f"| {first.group} | compiled fire | {first.against} | 1.10 | 1.10 | met |" in page
    slower = made_up_run()
    slower["1 listener"]["compiled fire"] = Timing.of([150e-9])
    assert "| 1.50 | 1.10 | not met |" in render(slower, {}, MACHINE)


def test_quoted_figures_are_refreshed_and_the_rest_of_the_text_kept() -> None:
    fire = "costs <!-- figure: fire-ratio -->{}<!-- /figure -->x"
    profiling = "and <!-- figure: profiling-ratio -->7<!-- /figure -->x"
    text = f"{fire.format('9.99')}, {profiling}"
    assert fill_figures(text, {"fire-ratio": "1.10"}) == f"{fire.format('1.10')}, {profiling}"


def test_an_unknown_figure_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="unknown figure 'fire-ration'"):
        fill_figures("<!-- figure: fire-ration -->1<!-- /figure -->", {})


def test_write_page_writes_the_page_and_the_quoting_pages(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("fire: <!-- figure: fire-ratio -->?<!-- /figure -->x\n")
    page = tmp_path / "performance.md"
    said: list[str] = []
    write_page(page, made_up_run(), {}, MACHINE, quoting=(readme,), say=said.append)
    assert page.read_text().startswith("# Performance\n")
    assert readme.read_text() == "fire: <!-- figure: fire-ratio -->1.10<!-- /figure -->x\n"
    assert said == [f"wrote {page}", f"updated the figures in {readme}"]


def test_every_figure_the_pages_quote_is_one_the_writer_knows() -> None:
    for quoting in QUOTING_PAGES:
        text = quoting.read_text(encoding="utf-8")
        assert fill_figures(text, {}) == text, quoting.name  # raises on an unknown name
        # At the start of a line, a comment opens an HTML block: the sentence would break.
        assert not re.search(r"^\s*<!-- /?figure", text, re.MULTILINE), quoting.name


def test_a_whole_locust_run_is_shown_side_by_side_with_its_ratios() -> None:
    run = {
        "result": {
            "stock": {"requests": 9000, "requests_per_second": 1000.0, "cpu_per_10k": 2.5},
            "ours": {"requests": 9100, "requests_per_second": 1100.0, "cpu_per_10k": 2.0},
        },
        "seconds": 10,
        "rounds": 4,
        "users": 10,
    }
    page = render(made_up_run(), {}, MACHINE, locust_run=run)
    assert "4 runs of 10 s on each" in page
    assert "| Locust's events | 1,000 | 2.500 |" in page
    assert "| locust_events | 1,100 | 2.000 |" in page
    assert "| ratio, ours to Locust's | 1.100 | 0.800 |" in page
    assert "## A whole Locust run" not in render(made_up_run(), {}, MACHINE)

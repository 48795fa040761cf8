"""Builds the optional compiled modules; where one cannot be built, installs pure Python, warning.

Two kinds: ``_speedups``, hand-written C (the calling loop), and the spawned path's modules,
whose one source is their ``.py``: Cython compiles each under the name of the ``.pxd`` beside
it (``_call_queue.py`` with ``_call_queue_compiled.pxd`` makes ``_call_queue_compiled``), as
gevent builds ``gevent._gevent_cqueue`` from ``queue.py``. The package runs without any of them.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

#: What a missing or failing C compiler raises while building.
BUILD_ERRORS = (CCompilerError, ExecError, PlatformError, OSError)

#: The spawned path's modules Cython compiles, each from its ``.py`` under the name of the
#: ``.pxd`` beside it, which declares its classes' fields and hot methods in C.
COMPILED_TWINS = {
    "locust_events._call_queue_compiled": "src/locust_events/_call_queue.py",
    "locust_events._spawned_compiled": "src/locust_events/_spawned.py",
    "locust_events._batching_compiled": "src/locust_events/_batching.py",
    "locust_events._batch_event_compiled": "src/locust_events/_batch_event.py",
    "locust_events._metric_recording_compiled": "src/locust_events/_metric_recording.py",
}

#: How Cython compiles them: the ``.pxd`` alone says what is C, the annotations stay Python's
#: (``float`` would be a C double, ``int`` an exact ``int``); Python 3 semantics throughout.
CYTHON_DIRECTIVES = {
    "language_level": 3,
    "annotation_typing": False,
    "embedsignature": True,
    "auto_pickle": False,
}

#: The note the installed package keeps of a failed compile, so that
#: ``python -m locust_events --version`` can say why it runs pure Python
#: (the name ``locust_events._version.BUILD_FAILURE_NOTE`` reads).
BUILD_FAILURE_NOTE = os.path.join("locust_events", "_build_failed.txt")


class OptionalBuildExt(build_ext):
    """``build_ext`` that turns a failed compile into a warning: the package works without it."""

    def run(self) -> None:
        self._write_note(None)  # a successful build leaves no stale note behind
        self.extensions = self._cythonized(self.extensions)
        try:
            super().run()
        except BUILD_ERRORS as error:  # no usable compiler at all
            self._warn(", ".join(ext.name for ext in self.extensions), error)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except BUILD_ERRORS as error:  # the compiler failed on this Python
            self._warn(ext.name, error)

    def _cythonized(self, extensions: list[Extension]) -> list[Extension]:
        """``extensions`` with each compiled twin's ``.py`` turned into C by Cython, which runs
        here, at build time only; without Cython the twins are left out (pure Python)."""
        twins = [ext for ext in extensions if ext.name in COMPILED_TWINS]
        if not twins:
            return extensions
        try:
            from Cython.Build import cythonize
        except ImportError as error:
            for ext in twins:
                self._warn(ext.name, error)
            return [ext for ext in extensions if ext not in twins]
        build_dir = os.path.join(self.build_temp, "cython")
        translated = cythonize(
            twins,
            build_dir=build_dir,
            include_path=["src"],  # where the cimports are found
            compiler_directives=CYTHON_DIRECTIVES,
            # Cython's change tracking looks for a .pxd named after the .py, never ours:
            # translate every time, or an edited .pxd would leave a stale build (seconds).
            force=True,
            quiet=True,
        )
        # Keep the extensions setuptools prepared, with the C sources in place of the .py.
        c_sources = {ext.name: ext.sources for ext in translated}
        for ext in twins:
            ext.sources = c_sources[ext.name]
        return extensions

    def _warn(self, name: str, error: Exception) -> None:
        reason = " ".join(str(error).split()) or type(error).__name__
        self._write_note(f"{name}: {reason}")
        # pip shows a build's output with -v (or when the build fails); the note reaches the
        # user in any case: the first Locust run and `python -m locust_events --version` say so.
        print(
            f"WARNING: {name} could not be compiled ({reason}); "
            "installing the pure-Python implementation, which behaves the same, only slower. "
            "The first Locust run and `python -m locust_events --version` will say so. Once a "
            f"C compiler and the Python headers are installed, rebuild: {self._rebuild()}",
            file=sys.stderr,
        )

    def _rebuild(self) -> str:
        """The command that builds this source again, from ``_install`` (the one place that
        knows such commands), loaded by path: the package is not installed yet."""
        install = _load_install_module()
        here = os.path.dirname(os.path.abspath(__file__))
        if self.inplace:
            source = install.InstallSource("checkout", here)
        elif os.path.isfile(os.path.join(here, "PKG-INFO")):
            source = install.InstallSource("unknown")  # an sdist, unpacked where pip builds
        else:
            source = install.InstallSource("directory", here)  # the user's source tree
        return str(install.rebuild_command(source))

    def _write_note(self, reason: str | None) -> None:
        note = (
            os.path.join("src", BUILD_FAILURE_NOTE)
            if self.inplace
            else os.path.join(self.build_lib, BUILD_FAILURE_NOTE)
        )
        if reason is None:
            if os.path.exists(note):
                os.remove(note)
            return
        os.makedirs(os.path.dirname(note), exist_ok=True)
        with open(note, "a") as file:  # one line per module that failed
            file.write(reason + "\n")


def _load_install_module():  # type: ignore[no-untyped-def]
    path = os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "src", "locust_events", "_install.py"
    )
    spec = importlib.util.spec_from_file_location("_locust_events_install", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


# The module calls nothing of libc directly, so the linker would record no libc; auditwheel
# needs one recorded to tell glibc (manylinux) from musl (musllinux).
LINK_LIBC = ["-Wl,--no-as-needed", "-lc"] if sys.platform == "linux" else []

# PyPy's JIT does better with the pure-Python modules than with C extensions through cpyext.
ext_modules = (
    []
    if platform.python_implementation() == "PyPy"
    else [
        Extension(
            "locust_events._speedups",
            ["src/locust_events/_speedups.c"],
            extra_link_args=LINK_LIBC,
        ),
        *(
            Extension(name, [source], extra_link_args=LINK_LIBC)
            for name, source in COMPILED_TWINS.items()
        ),
    ]
)

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})

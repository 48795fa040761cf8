"""Builds the optional C accelerator; where it cannot be built, installs pure Python and warns."""

from __future__ import annotations

import os
import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

#: What a missing or failing C compiler raises while building.
BUILD_ERRORS = (CCompilerError, ExecError, PlatformError, OSError)

#: The note the installed package keeps of a failed compile, so that
#: ``python -m locust_events --version`` can say why it runs pure Python
#: (the name ``locust_events._version.BUILD_FAILURE_NOTE`` reads).
BUILD_FAILURE_NOTE = os.path.join("locust_events", "_build_failed.txt")


class OptionalBuildExt(build_ext):
    """``build_ext`` that turns a failed compile into a warning: the package works without it."""

    def run(self) -> None:
        self._write_note(None)  # a successful build leaves no stale note behind
        try:
            super().run()
        except BUILD_ERRORS as error:  # no usable compiler at all
            self._warn(error)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except BUILD_ERRORS as error:  # the compiler failed on this Python
            self._warn(error)

    def _warn(self, error: Exception) -> None:
        reason = " ".join(str(error).split()) or type(error).__name__
        self._write_note(reason)
        # pip shows a build's output with -v (or when the build fails); the note reaches the
        # user in any case through `python -m locust_events --version`.
        print(
            f"WARNING: locust_events._speedups could not be compiled ({reason}); "
            "installing the pure-Python implementation, which behaves the same, only slower. "
            "`python -m locust_events --version` will say so. Once a C compiler and the Python "
            "headers are installed: pip install --force-reinstall --no-cache-dir "
            "--no-binary locust-events locust-events",
            file=sys.stderr,
        )

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
        with open(note, "w") as file:
            file.write(reason + "\n")


# PyPy's JIT does better with the pure-Python loop than with a C extension through cpyext.
ext_modules = (
    []
    if platform.python_implementation() == "PyPy"
    else [
        Extension(
            "locust_events._speedups",
            ["src/locust_events/_speedups.c"],
            # The module calls nothing of libc directly, so the linker would record no libc;
            # auditwheel needs one recorded to tell glibc (manylinux) from musl (musllinux).
            extra_link_args=["-Wl,--no-as-needed", "-lc"] if sys.platform == "linux" else [],
        )
    ]
)

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})

"""Builds the optional C accelerator; where it cannot be built, installs pure Python and warns."""

from __future__ import annotations

import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, ExecError, PlatformError

#: What a missing or failing C compiler raises while building.
BUILD_ERRORS = (CCompilerError, ExecError, PlatformError, OSError)


class OptionalBuildExt(build_ext):
    """``build_ext`` that turns a failed compile into a warning: the package works without it."""

    def run(self) -> None:
        try:
            super().run()
        except BUILD_ERRORS as error:  # no usable compiler at all
            self._warn(error)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except BUILD_ERRORS as error:  # the compiler failed on this Python
            self._warn(error)

    @staticmethod
    def _warn(error: Exception) -> None:
        print(
            f"WARNING: locust_events._speedups could not be compiled ({error}); "
            "installing the pure-Python implementation, which behaves the same, only slower.",
            file=sys.stderr,
        )


# PyPy's JIT does better with the pure-Python loop than with a C extension through cpyext.
ext_modules = (
    []
    if platform.python_implementation() == "PyPy"
    else [Extension("locust_events._speedups", ["locust_events/_speedups.c"])]
)

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})

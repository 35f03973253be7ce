"""Build hook: compile the optional C speedups (``streamkit._speedups``) into the wheel.

hatchling builds the pure-Python package; this hook (hatchling's ``custom`` build hook)
compiles ``src/streamkit/_speedups.c`` with setuptools' ``build_ext`` (which finds the
platform's compiler and Python's headers) when it can, and otherwise lets the build go on
pure Python, saying why. ``STREAMKIT_PURE_PYTHON=1`` skips the compilation.

A regular wheel gets the extension through ``force_include`` and a platform tag; an
editable install gets it built in place next to ``_speedups.c`` (``src/`` is what the
editable install puts on ``sys.path``), so re-run ``pip install -e .`` after editing the C.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src") / "streamkit" / "_speedups.c"
MODULE = "streamkit._speedups"


def _say(message: str) -> None:
    print(f"streamkit build: {message}", file=sys.stderr, flush=True)


def _pure_python_requested() -> bool:
    return os.environ.get("STREAMKIT_PURE_PYTHON", "") not in ("", "0")


def _compile(root: Path, build_dir: Path) -> Path:
    """Compile the extension into build_dir; return the built file (raises on failure)."""
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    extension = Extension(
        MODULE,
        sources=[str(SOURCE)],
        extra_compile_args=[] if os.name == "nt" else ["-O2"],
    )
    distribution = Distribution({"name": "streamkit", "ext_modules": [extension]})
    command = build_ext(distribution)
    command.build_lib = str(build_dir)
    command.build_temp = str(build_dir / "temp")
    command.inplace = False
    command.ensure_finalized()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        command.run()
    finally:
        os.chdir(cwd)
    return Path(command.get_ext_fullpath(MODULE))


class SpeedupsBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        in_place = root / "src" / "streamkit" / f"_speedups{suffix}"
        if version == "editable":
            in_place.unlink(missing_ok=True)  # never keep a stale build
        if _pure_python_requested():
            _say("STREAMKIT_PURE_PYTHON is set: building pure Python (no C speedups)")
            return
        build_dir = Path(tempfile.mkdtemp(prefix="streamkit-build-"))
        try:
            built = _compile(root, build_dir)
        except Exception as error:  # no compiler, no headers, a compile error ...
            _say(
                f"the C speedups were not compiled ({type(error).__name__}: {error}); "
                "streamkit will run in pure Python (streamkit --version says which)"
            )
            return
        if version == "editable":
            in_place.write_bytes(built.read_bytes())
        else:
            build_data["force_include"][str(built)] = f"streamkit/{built.name}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        _say(f"compiled the C speedups ({built.name})")

"""Installing the project prints no deprecation warning of its own (issue 18): the licence is an SPDX
string, so setuptools (>= 77) has nothing to warn about.

The wheel is built by the same setuptools the virtualenv carries (no build isolation, so no network),
from a copy of the source tree, then installed into a fresh target directory.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from confbridge.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "alembic.ini")
TREES = ("confbridge", "web", "migrations", "config")


def _pip(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        capture_output=True, text=True, timeout=240, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def test_licence_is_an_spdx_string() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert isinstance(project["project"]["license"], str)
    assert any(r.startswith("setuptools>=77") for r in project["build-system"]["requires"])


def test_building_and_installing_prints_no_deprecation_warning(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        shutil.copy2(PROJECT_ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "*.egg-info")
    for name in TREES:
        shutil.copytree(PROJECT_ROOT / name, src / name, ignore=ignore)
    wheels = tmp_path / "wheels"
    built = _pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(src))
    installed = _pip("install", "--no-deps", "--no-index", "--target", str(tmp_path / "site"),
                     *map(str, wheels.glob("*.whl")))
    for output in (built, installed):
        assert "deprecat" not in output.lower(), output
        assert "BuildBackendWarning" not in output, output
    (wheel,) = wheels.glob("confbridge-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    assert "License-Expression: LicenseRef-Proprietary" in text

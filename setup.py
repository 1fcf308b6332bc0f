"""Build hook: ship web/, migrations/ and config/ inside the wheel (under confbridge/_bundled/).

All metadata lives in pyproject.toml; this file only extends build_py.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("web", "migrations", "config")


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads them from the checkout
            return
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "confbridge" / "_bundled"
        for name in BUNDLED:
            shutil.copytree(root / name, target / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"))


setup(cmdclass={"build_py": BuildWithResources})

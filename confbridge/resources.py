"""Where the shipped non-Python files live: ``web/``, ``migrations/`` and ``config/``.

In a checkout (and an editable install) they sit beside the package; a built wheel carries copies under
``confbridge/_bundled/`` (see ``setup.py``), so ``pip install .`` works from anywhere.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
CHECKOUT_ROOT = PACKAGE_ROOT.parent
BUNDLED_ROOT = PACKAGE_ROOT / "_bundled"


def resource_root() -> Path:
    """The folder holding ``web/``, ``migrations/`` and ``config/``."""
    if (CHECKOUT_ROOT / "migrations" / "env.py").exists():
        return CHECKOUT_ROOT
    return BUNDLED_ROOT


def resource_dir(name: str) -> Path:
    return resource_root() / name

"""Private files: the data directory, the SQLite database (and its WAL/SHM), the outbox ``.eml`` files.

They hold addresses, PINs and password hashes: directories are created 0700 and files 0600 whatever the
caller's umask, by every command that creates them (each goes through these helpers).
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create *path* (and missing parents) owner-only; an existing directory we created is tightened."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Make sure *path* exists and is owner-only (0600) before anything is written to it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write *data* to *path* atomically, owner-only from the first byte."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def tighten_sqlite(db_path: Path) -> None:
    """The database and its WAL/SHM companions 0600 (SQLite copies the database's mode, but be sure)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        companion = Path(f"{db_path}{suffix}")
        if companion.exists():
            os.chmod(companion, FILE_MODE)

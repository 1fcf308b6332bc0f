"""Files holding addresses, PINs and password hashes are owner-only whatever the umask, by every command."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from confbridge.files import write_private


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_db_upgrade_under_a_lax_umask_creates_a_private_data_dir_and_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "CONFBRIDGE_DATA_DIR": str(data),
           "CONFBRIDGE_DATABASE_URL": f"sqlite:///{data}/confbridge.db"}
    code = "import os, sys; os.umask(0o022); from confbridge.cli import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", code, "db", "upgrade"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _mode(data) == 0o700
    files = [p for p in data.iterdir() if p.name.startswith("confbridge.db")]
    assert files and all(_mode(p) == 0o600 for p in files), {p.name: oct(_mode(p)) for p in files}


def test_outbox_files_are_written_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        from confbridge.invites.outbox import FolderTransport

        FolderTransport(tmp_path / "mail").send("a@x.example", "b@x.example", b"PIN 1234", "m1")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "mail") == 0o700
    assert _mode(tmp_path / "mail" / "m1.eml") == 0o600
    write_private(tmp_path / "x.eml", b"again")
    assert _mode(tmp_path / "x.eml") == 0o600

"""deploy/ is tested, not decorative: nginx accepts the site as rendered for a machine, and each systemd
unit restarts on failure, is hardened and runs a command this checkout has."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from confbridge.cli import main
from tests.integration.topology.deploy_files import (
    ROOT,
    main_config,
    make_certificate,
    nginx_binary,
    read_unit,
    render_site,
)
from tests.services import free_port

UNITS = [("confbridge-web.service", None, ["web"]),
         ("confbridge-scheduler@.service", "9101", ["scheduler"]),
         ("confbridge-live@.service", "8766", ["live", "--port", "8766"])]
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes", "ProtectHome": "yes",
             "PrivateDevices": "yes", "RestrictNamespaces": "yes", "CapabilityBoundingSet": ""}


def test_nginx_accepts_the_rendered_site(tmp_path: Path) -> None:
    nginx = nginx_binary()
    cert, key = make_certificate(tmp_path)
    site = render_site(server_name="hoinghi.test", http_port=free_port(), https_port=free_port(),
                       certificate=cert, key=key, static_root=ROOT / "web" / "static",
                       web_server="127.0.0.1:8080", live_servers=["127.0.0.1:8765", "127.0.0.1:8766"])
    assert "server 127.0.0.1:8765; server 127.0.0.1:8766;" in site
    conf = main_config(tmp_path / "nginx", site)
    result = subprocess.run([nginx, "-t", "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_nginx_refuses_a_broken_site(tmp_path: Path) -> None:
    """The check above would catch a broken file: a missing certificate fails ``nginx -t``."""
    nginx = nginx_binary()
    site = render_site(server_name="hoinghi.test", http_port=free_port(), https_port=free_port(),
                       certificate=tmp_path / "missing.pem", key=tmp_path / "missing.key",
                       static_root=ROOT / "web" / "static", web_server="127.0.0.1:8080",
                       live_servers=["127.0.0.1:8765"])
    conf = main_config(tmp_path / "nginx", site)
    result = subprocess.run([nginx, "-t", "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0


@pytest.mark.parametrize(("file_name", "instance", "args"), UNITS)
def test_units_restart_on_failure_are_hardened_and_run_a_real_command(
        file_name: str, instance: str | None, args: list[str]) -> None:
    unit = read_unit(file_name, instance)
    assert unit.options["Restart"] == ["on-failure"]
    for key, wanted in HARDENING.items():
        assert unit.options.get(key) == [wanted], (file_name, key)
    assert unit.options["ReadWritePaths"] == ["/var/lib/confbridge"]
    assert unit.options["User"] == ["confbridge"]
    assert unit.environment["CONFBRIDGE_CONFIG"] == "/etc/confbridge/confbridge.toml"
    command = unit.command()
    assert command[-len(args):] == args
    # The command exists in this checkout (its --help answers).
    result = CliRunner().invoke(main, [*args[:1], "--help"])
    assert result.exit_code == 0, result.output
    if instance == "9101":
        assert unit.environment["CONFBRIDGE_SCHEDULER_METRICS_PORT"] == "9101"
    if file_name == "confbridge-web.service":
        assert unit.environment["PROMETHEUS_MULTIPROC_DIR"] == "/run/confbridge-web"
        assert unit.options["RuntimeDirectory"] == ["confbridge-web"]  # fresh and empty on every start

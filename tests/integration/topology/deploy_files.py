"""Read deploy/ as the topology tests use it: systemd units turned into subprocess commands, the nginx
site rendered with test values, a throwaway TLS certificate and an nginx main configuration."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import unavailable

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
INSTALLED_CLI = "/opt/confbridge/venv/bin/confbridge"


@dataclass(frozen=True)
class Unit:
    """What a systemd unit would run: its ``Environment=`` pairs and its ``ExecStart=`` argv."""

    name: str
    environment: dict[str, str]
    argv: list[str]
    options: dict[str, list[str]]

    def command(self) -> list[str]:
        """The ExecStart command, with the installed ``confbridge`` replaced by this checkout's."""
        argv = list(self.argv)
        if argv and argv[0] == INSTALLED_CLI:
            argv = [sys.executable, "-m", "confbridge.cli", *argv[1:]]
        return argv


def read_unit(file_name: str, instance: str | None = None) -> Unit:
    options: dict[str, list[str]] = {}
    for raw in (DEPLOY / "systemd" / file_name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        if instance is not None:
            value = value.replace("%i", instance)
        options.setdefault(key.strip(), []).append(value.strip())
    env = {}
    for item in options.get("Environment", []):
        for pair in shlex.split(item):
            k, _, v = pair.partition("=")
            env[k] = v
    (exec_start,) = options["ExecStart"]
    return Unit(file_name, env, shlex.split(exec_start), options)


def render_site(*, server_name: str, http_port: int, https_port: int, certificate: Path, key: Path,
                static_root: Path, web_server: str, live_servers: list[str]) -> str:
    text = (DEPLOY / "nginx" / "confbridge.conf").read_text(encoding="utf-8")
    values = {
        "SERVER_NAME": server_name, "HTTP_PORT": str(http_port), "HTTPS_PORT": str(https_port),
        "TLS_CERTIFICATE": str(certificate), "TLS_CERTIFICATE_KEY": str(key),
        "STATIC_ROOT": str(static_root), "WEB_SERVER": web_server,
        "LIVE_SERVERS": " ".join(f"server {s};" for s in live_servers),
    }
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    assert "@" not in "".join(line.split("#", 1)[0] for line in text.splitlines()), "a placeholder is left"
    return text


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not found:
        unavailable("nginx not installed (apt-get install nginx)")
        pytest.skip("nginx")  # unreachable under CI (unavailable fails)
    return found


def make_certificate(folder: Path, name: str = "localhost") -> tuple[Path, Path]:
    """A self-signed certificate for *name* and 127.0.0.1, made with the openssl command."""
    if not shutil.which("openssl"):
        unavailable("openssl not installed (apt-get install openssl)")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    key.chmod(0o600)
    return cert, key


def main_config(folder: Path, site: str) -> Path:
    """An nginx.conf of its own (pid, logs and temp files in *folder*) that includes the rendered site."""
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / sub).mkdir(exist_ok=True)
        (folder / sub).chmod(0o777)
    (folder / "site.conf").write_text(site, encoding="utf-8")
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read the checkout's static files
    conf = folder / "nginx.conf"
    conf.write_text(f"""
{user}
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
""", encoding="utf-8")
    return conf

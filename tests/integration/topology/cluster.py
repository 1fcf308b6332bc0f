"""The production topology of deploy/ on one machine, every part its own OS process: PostgreSQL (its own
cluster, so the test may restart it), Redis, nginx (TLS), `confbridge web` (gunicorn, 2 workers), two
schedulers, two live servers — each started from its systemd unit's ExecStart and Environment."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests import services
from tests.fixtures.mcu import McuEmulator
from tests.integration.processes.procs import Answer, Proc, port_open, wait_until
from tests.integration.topology.deploy_files import (
    ROOT,
    main_config,
    make_certificate,
    nginx_binary,
    read_unit,
    render_site,
)


def write_settings(path: Path, *, db_url: str, web_port: int, https_port: int, live_port: int,
                   redis_url: str, smtp_port: int, emulator: McuEmulator) -> Path:
    """One settings file for every process, as /etc/confbridge/confbridge.toml would be."""
    sections: dict[str, dict[str, Any]] = {
        "database": {"url": db_url},
        "web": {"host": "127.0.0.1", "port": web_port, "secret_key_file": str(path.parent / "secret_key"),
                "tls": True, "workers": 2, "trusted_proxies": 1},
        "emulator": {"enabled": False},
        # Production lease (10 s: take-over within 15 s); short polls keep the test quick. One dial
        # attempt per endpoint: a dropped call stays dropped, so every dial in the call log is a first one.
        "launch": {"poll_seconds": 0.5, "reconcile_interval_seconds": 2, "dial_attempts": 1,
                   "dial_backoff_seconds": 1, "unreachable_retry_seconds": 1},
        "mail": {"host": "127.0.0.1", "port": smtp_port, "sender": "hoinghi@ubnd.example",
                 "outbox_dir": str(path.parent / "mail"), "poll_seconds": 0.5},
        "live": {"host": "127.0.0.1", "port": live_port, "bus": "redis", "redis_url": redis_url,
                 "public_url": f"wss://127.0.0.1:{https_port}/live", "flush_ms": 50},
        "monitor": {"poll_seconds": 0.5},
        "logging": {"format": "json", "level": "INFO"},
    }
    lines = ['timezone = "Asia/Ho_Chi_Minh"', f"data_dir = {json.dumps(str(path.parent / 'data'))}"]
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    lines += ["[[bridges]]", 'name = "mcu-tinh"', 'driver = "cisco-mcu"', f'url = "{emulator.url}"',
              f'username = "{emulator.username}"', f'password_env = "{emulator.password_env}"',
              "max_concurrent_requests = 4", "timeout_seconds = 10", "default = true"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Cluster:
    folder: Path
    config: Path
    web_port: int
    https_port: int
    live_ports: list[int]
    scheduler_ports: list[int]
    certificate: Path
    procs: dict[str, Proc] = field(default_factory=dict)

    # ---- processes ---------------------------------------------------------------------------------------
    def start_unit(self, name: str, unit_file: str, instance: str | None = None) -> Proc:
        """Start what the systemd unit runs, with its environment (our settings file and folders)."""
        unit = read_unit(unit_file, instance)
        env = dict(unit.environment)
        env["CONFBRIDGE_CONFIG"] = str(self.config)
        if "PROMETHEUS_MULTIPROC_DIR" in env:  # RuntimeDirectory=: fresh and empty on every start
            folder = self.folder / f"run-{name}"
            folder.mkdir(exist_ok=True)
            for stale in folder.iterdir():
                stale.unlink()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
        proc = Proc(unit.command(), self.folder / f"{name}.log", env=env)
        self.procs[name] = proc
        return proc

    def start_nginx(self, static_root: Path) -> Proc:
        site = render_site(server_name="127.0.0.1", http_port=services.free_port(), https_port=self.https_port,
                           certificate=self.certificate, key=self.certificate.with_name("key.pem"),
                           static_root=static_root, web_server=f"127.0.0.1:{self.web_port}",
                           live_servers=[f"127.0.0.1:{p}" for p in self.live_ports])
        conf = main_config(self.folder / "nginx", site)
        nginx = nginx_binary()
        check = subprocess.run([nginx, "-t", "-c", str(conf)], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        proc = Proc([nginx, "-c", str(conf)], self.folder / "nginx.log")
        self.procs["nginx"] = proc
        return proc

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{proc.output()[-3000:]}" for name, proc in self.procs.items())

    # ---- HTTP ------------------------------------------------------------------------------------------
    @property
    def public(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def https(self, method: str, path: str, *, token: str | None = None, json_body: Any = None,
              timeout: float = 10) -> Answer:
        """A request through nginx, verifying its certificate."""
        context = ssl.create_default_context(cafile=str(self.certificate))
        data = json.dumps(json_body).encode() if json_body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.public + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.headers, exc.read())

    def probe_urls(self) -> dict[str, str]:
        """Every process's own loopback port (as Prometheus scrapes them)."""
        urls = {"web": f"http://127.0.0.1:{self.web_port}"}
        urls |= {f"live@{p}": f"http://127.0.0.1:{p}" for p in self.live_ports}
        urls |= {f"scheduler@{p}": f"http://127.0.0.1:{p}" for p in self.scheduler_ports}
        return urls


def get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError as exc:
        return 0, str(exc)


def metric(body: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def leader_values(cluster: Cluster, ports: list[int]) -> dict[int, float]:
    out = {}
    for port in ports:
        status, body = get(f"http://127.0.0.1:{port}/metrics")
        out[port] = metric(body, "confbridge_scheduler_leader") if status == 200 else float("nan")
    return out


def migrate(config: Path, folder: Path) -> None:
    """`confbridge db upgrade`, as deploy/README.md says (before the units start)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFBRIDGE_")}
    done = subprocess.run([sys.executable, "-m", "confbridge.cli", "--config", str(config), "db", "upgrade"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def wait_ready(cluster: Cluster, timeout: float, *, through_nginx: bool = True) -> None:
    for name, url in cluster.probe_urls().items():
        wait_until(lambda url=url: get(url + "/readyz")[0] == 200, timeout, f"{name} ready",
                   cluster.procs.get(name.replace("@", "-")))
    if through_nginx:
        wait_until(lambda: cluster.https("GET", "/readyz").status_code == 200, timeout, "nginx → web ready",
                   cluster.procs.get("nginx"))


def make_cluster(folder: Path, *, db_url: str, redis_url: str, smtp_port: int, emulator: McuEmulator) -> Cluster:
    web_port, https_port = services.free_port(), services.free_port()
    live_ports = [services.free_port(), services.free_port()]
    scheduler_ports = [services.free_port(), services.free_port()]
    config = write_settings(folder / "confbridge.toml", db_url=db_url, web_port=web_port, https_port=https_port,
                            live_port=live_ports[0], redis_url=redis_url, smtp_port=smtp_port, emulator=emulator)
    cert, _key = make_certificate(folder, "127.0.0.1")
    return Cluster(folder, config, web_port, https_port, live_ports, scheduler_ports, cert)


def start_all(cluster: Cluster) -> None:
    cluster.start_unit("web", "confbridge-web.service")
    for port in cluster.scheduler_ports:
        cluster.start_unit(f"scheduler-{port}", "confbridge-scheduler@.service", str(port))
        time.sleep(0.3)  # the first one started leads (not required; it makes the logs easier to read)
    for port in cluster.live_ports:
        cluster.start_unit(f"live-{port}", "confbridge-live@.service", str(port))
    cluster.start_nginx(ROOT / "web" / "static")
    wait_until(lambda: port_open(cluster.web_port), 60, "web listening", cluster.procs["web"])

"""Start-up warnings about settings that work but leak: passwords that would cross the network in clear.

Logged (never raised) by every process that talks to a bridge or a mail server, so an operator sees them
in the journal the first time the process starts.  Loopback hosts (the emulator, a local relay) are fine.
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from confbridge.settings import Settings

log = logging.getLogger(__name__)


def is_loopback(host: str | None) -> bool:
    if not host:
        return True
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def clear_text_warnings(settings: Settings) -> list[str]:
    """One line per bridge or mail server whose password would travel unencrypted to another host."""
    warnings: list[str] = []
    for bridge in settings.bridges:
        parts = urlsplit(bridge.url)
        has_password = bool(bridge.password_env or bridge.password_file)
        if has_password and parts.scheme == "http" and not is_loopback(parts.hostname):
            warnings.append(
                f"bridges[{bridge.name}]: the MCU password is sent in clear text to {parts.hostname} "
                "(use an https:// url, with ca_file for a private CA)"
            )
    mail = settings.mail
    if mail.host and mail.username and mail.tls_mode == "none" and not is_loopback(mail.host):
        warnings.append(
            f"mail: the SMTP password is sent in clear text to {mail.host} "
            '(set [mail] tls = "starttls" or "implicit")'
        )
    return warnings


def warn_clear_text(settings: Settings) -> list[str]:
    warnings = clear_text_warnings(settings)
    for line in warnings:
        log.warning("insecure setting: %s", line)
    return warnings

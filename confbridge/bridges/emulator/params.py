"""Typed access to the one struct parameter of a call, with the device's validation faults."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

from confbridge.bridges.faults import fault_string

MAX_STRING = 31  # "Unless otherwise stated, assume string length is a maximum of 31 characters."


def fault(code: int, parameter: str | None = None) -> xmlrpc.client.Fault:
    return xmlrpc.client.Fault(code, fault_string(code, parameter))


class Params:
    def __init__(self, struct: dict[str, Any]) -> None:
        self.struct = struct

    def __contains__(self, name: str) -> bool:
        return name in self.struct

    def _get(self, name: str, required: bool) -> Any:
        if name not in self.struct:
            if required:
                raise fault(101, name)
            return None
        return self.struct[name]

    def string(self, name: str, *, required: bool = False, max_len: int = MAX_STRING,
               missing_code: int = 101) -> str | None:
        if name not in self.struct and required:
            raise fault(missing_code, name if missing_code == 101 else None)
        value = self._get(name, False)
        if value is None:
            return None
        if not isinstance(value, str):
            raise fault(103, name)
        if len(value) > max_len:
            raise fault(35)
        return value

    def integer(self, name: str, *, required: bool = False, minimum: int | None = None,
                maximum: int | None = None) -> int | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise fault(103, name)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise fault(102, name)
        return value

    def boolean(self, name: str, *, required: bool = False) -> bool | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise fault(103, name)
        return value

    def datetime(self, name: str) -> xmlrpc.client.DateTime | None:
        value = self._get(name, False)
        if value is None:
            return None
        if not isinstance(value, xmlrpc.client.DateTime):
            raise fault(103, name)
        return value

    def array(self, name: str, *, required: bool = False) -> list[Any] | None:
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, list):
            raise fault(103, name)
        return value

    def struct_(self, name: str) -> dict[str, Any] | None:
        value = self._get(name, False)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise fault(103, name)
        return value

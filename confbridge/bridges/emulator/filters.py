"""``enumerateFilter`` expressions: atoms combined with ``!``, ``&&``, ``||`` and parentheses.

Participants use ``connected``, ``disconnected``, ``connecting``; conferences ``active``, ``completed``,
``scheduled`` (e.g. CESNET's ``"!completed"``).  An unknown atom or bad syntax is fault 102.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Predicate = Callable[[set[str]], bool]
_TOKEN = re.compile(r"\s*(\(|\)|!|&&|\|\||[A-Za-z]+)")


class FilterError(ValueError):
    pass


def compile_filter(text: str, atoms: set[str]) -> Predicate:
    """A predicate over the set of atoms true for one record."""
    tokens: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise FilterError(text)
        tokens.append(match.group(1))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    if not tokens:
        raise FilterError(text)
    parser = _Parser(tokens, atoms)
    predicate = parser.parse_or()
    if parser.pos != len(tokens):
        raise FilterError(text)
    return predicate


class _Parser:
    def __init__(self, tokens: list[str], atoms: set[str]) -> None:
        self.tokens = tokens
        self.atoms = atoms
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise FilterError("unexpected end")
        self.pos += 1
        return token

    def parse_or(self) -> Predicate:
        left = self.parse_and()
        while self._peek() == "||":
            self._take()
            right = self.parse_and()
            left = (lambda a, b: lambda s: a(s) or b(s))(left, right)
        return left

    def parse_and(self) -> Predicate:
        left = self.parse_not()
        while self._peek() == "&&":
            self._take()
            right = self.parse_not()
            left = (lambda a, b: lambda s: a(s) and b(s))(left, right)
        return left

    def parse_not(self) -> Predicate:
        tok = self._take()
        if tok == "!":
            inner = self.parse_not()
            return lambda s: not inner(s)
        if tok == "(":
            inner = self.parse_or()
            if self._take() != ")":
                raise FilterError("missing )")
            return inner
        if tok not in self.atoms:
            raise FilterError(tok)
        return lambda s: tok in s

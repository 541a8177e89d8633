"""Regular expressions, one module per stage, compiled at import and each tested."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Guarded:
    """A pattern with the literals one of which every match contains.

    Python's regex engine tries a pattern that opens with an optional part or a character
    class at every position of the text; most paragraphs hold none of the literals such
    a pattern needs (元, 轮, 巡察组…), and a substring test settles that at C speed.
    Results are those of ``pattern`` itself; ``tests/test_patterns.py`` checks on the
    corpus that no match lacks a literal.
    """

    pattern: re.Pattern[str]
    literals: tuple[str, ...]
    any_literal: re.Pattern[str]  # the literals as one alternation: a single scan in C

    def possible(self, text: str) -> bool:
        return self.any_literal.search(text) is not None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text) if self.possible(text) else iter(())

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text) if self.possible(text) else None


def guarded(pattern: str, literals: str | tuple[str, ...], flags: int = 0) -> Guarded:
    """Compile ``pattern``; ``literals`` as a string means each of its characters."""
    literals = tuple(literals)
    any_literal = re.compile("|".join(re.escape(lit) for lit in sorted(literals, key=len, reverse=True)))
    return Guarded(re.compile(pattern, flags), literals, any_literal)

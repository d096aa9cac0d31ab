"""Buyer personas matched against an account's classified contacts (DESIGN §8).

A contact matches a persona when every condition the persona gives holds: its seniority is one
of ``seniority``, its function one of ``functions``, and its title contains one of
``title_keywords`` as whole words, case-insensitively ("organic search" matches "Organic-Search
Lead", "seo" does not match "Seoul"). An account's roll-ups for scoring are ``contacts`` (how
many) and ``personas.<id>`` (how many match each persona).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from app.scoring.definition import PERSONA_PREFIX, Persona

__all__ = ["ContactView", "PersonaMatcher"]


@dataclass(frozen=True, slots=True)
class ContactView:
    """What persona matching needs of a contact: its title and what the title says."""

    title: str | None
    seniority: str | None
    function: str


_NON_WORD: Final = re.compile(r"\W+")


def _keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str]:
    """One regex for "any of these keywords, as whole words, whatever separates the words"."""
    alternatives = sorted(
        (r"\W+".join(map(re.escape, _NON_WORD.sub(" ", k).split())) for k in keywords),
        key=len,
        reverse=True,
    )
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _CompiledPersona:
    field: str
    seniority: frozenset[str] | None
    functions: frozenset[str] | None
    keywords: re.Pattern[str] | None

    def matches(self, contact: ContactView) -> bool:
        if self.seniority is not None and contact.seniority not in self.seniority:
            return False
        if self.functions is not None and contact.function not in self.functions:
            return False
        return self.keywords is None or (
            contact.title is not None and self.keywords.search(contact.title) is not None
        )


class PersonaMatcher:
    """An ICP's personas, compiled once; counts an account's contacts per persona."""

    def __init__(self, personas: Sequence[Persona]) -> None:
        self.personas = [
            _CompiledPersona(
                field=PERSONA_PREFIX + persona.id,
                seniority=frozenset(persona.seniority) if persona.seniority else None,
                functions=frozenset(persona.functions) if persona.functions else None,
                keywords=_keyword_pattern(persona.title_keywords)
                if persona.title_keywords
                else None,
            )
            for persona in personas
        ]

    def __bool__(self) -> bool:
        return bool(self.personas)

    def roll_up(self, contacts: Iterable[ContactView]) -> dict[str, Any]:
        """``{"contacts": n, "personas.<id>": matching, ...}`` for one account's contacts."""
        counts = dict.fromkeys((p.field for p in self.personas), 0)
        total = 0
        for contact in contacts:
            total += 1
            for persona in self.personas:
                if persona.matches(contact):
                    counts[persona.field] += 1
        return {"contacts": total, **counts}

    def matching(self, contact: ContactView) -> list[str]:
        """The ids of the personas one contact matches."""
        return [p.field[len(PERSONA_PREFIX) :] for p in self.personas if p.matches(contact)]

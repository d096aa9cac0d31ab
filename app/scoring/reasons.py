"""The one-line explanation a sales rep reads next to the score."""

from __future__ import annotations

from collections.abc import Sequence

MAX_REASONS_CHARS = 1_000
SEPARATOR = " · "
ELLIPSIS = "…"
MINUS = "−"  # U+2212: reads as a minus sign in CRM fonts, unlike a hyphen


def format_reasons(
    *,
    tier: str,
    score: int,
    matched: Sequence[tuple[str, int]],
    unknown: Sequence[tuple[str, int]],
    excluded_by: Sequence[str] = (),
) -> str:
    """``A 85 · +25 New media · +15 Raised ≥ $3M · −20 Fewer than 10 staff · ? SEO (no data)``.

    ``matched`` and ``unknown`` are ``(label, weight)`` pairs. Matched signals for the fit
    come first, then those against it, then the unknowns; each group strongest first (ties
    keep definition order), as in the DESIGN §3.3 example. An exclusion replaces the rest.
    """
    segments = [f"{tier} {score}"]
    if excluded_by:
        segments.extend(f"excluded: {label}" for label in excluded_by)
    else:
        for label, weight in sorted(matched, key=lambda pair: (pair[1] < 0, -abs(pair[1]))):
            sign = "+" if weight > 0 else MINUS
            segments.append(f"{sign}{abs(weight)} {label}")
        for label, _ in sorted(unknown, key=lambda pair: -abs(pair[1])):
            segments.append(f"? {label} (no data)")
    return join_within(segments, MAX_REASONS_CHARS)


def join_within(segments: Sequence[str], limit: int) -> str:
    """Join segments; past ``limit`` characters, drop whole trailing segments and end with …."""
    text = SEPARATOR.join(segments)
    if len(text) <= limit:
        return text
    tail = len(SEPARATOR) + len(ELLIPSIS)
    kept = [segments[0]]
    length = len(segments[0])
    for segment in segments[1:]:
        if length + len(SEPARATOR) + len(segment) + tail > limit:
            break
        kept.append(segment)
        length += len(SEPARATOR) + len(segment)
    return SEPARATOR.join([*kept, ELLIPSIS])

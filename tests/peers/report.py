"""What one peer extractor's run against a freshly seeded sandbox came to."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PeerReport", "StreamCount"]


@dataclass(frozen=True, slots=True)
class StreamCount:
    """Records one stream extracted, against what the sandbox holds for it."""

    stream: str
    extracted: int
    expected: int

    @property
    def complete(self) -> bool:
        """Every record the sandbox holds came out, and nothing more."""
        return self.extracted == self.expected


@dataclass(slots=True)
class PeerReport:
    """One peer's run: its exit code, per-stream counts, calls the fake counted, and time."""

    peer: str
    exit_code: int
    seconds: float
    calls: int
    unmatched_calls: int
    streams: list[StreamCount] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Exit 0, no call the fake does not serve, and every stream complete."""
        return (
            self.exit_code == 0
            and self.unmatched_calls == 0
            and all(stream.complete for stream in self.streams)
        )

    def lines(self) -> list[str]:
        """Human-readable lines for the console and README."""
        head = (
            f"{self.peer}: exit {self.exit_code}, {self.seconds:.1f} s, {self.calls} calls"
            f" ({self.unmatched_calls} unmatched) — {'OK' if self.passed else 'FAILED'}"
        )
        body = [
            f"  {s.stream:<24} {s.extracted:>8} of {s.expected:>8}"
            + ("" if s.complete else "  ← incomplete")
            for s in self.streams
        ]
        return [head, *body, *(f"  error: {e}" for e in self.errors)]

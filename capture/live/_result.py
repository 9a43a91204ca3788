"""What a recording did: its actions, its captures, and the summary `capture record` prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from capture.live._actions import Action
from capture.recorder import RecorderStats

__all__ = ["LiveResult"]


@dataclass
class LiveResult:
    """What a recording did: its actions and how the captures went."""

    actions: list[Action]
    captures: int
    stats: RecorderStats
    untrusted: int = 0
    forged: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines for the terminal; never a typed value."""
        kinds: dict[str, int] = {}
        for action in self.actions:
            kinds[action.kind] = kinds.get(action.kind, 0) + 1
        counts = ", ".join(f"{n} {kind}" for kind, n in kinds.items()) or "none"
        lines = [
            f"actions: {len(self.actions)} ({counts})",
            f"captures: {self.captures} (uploaded {self.stats.uploaded}, "
            f"dropped {self.stats.dropped}, unchanged {self.stats.unchanged})",
        ]
        if self.untrusted or self.forged:
            lines.append(
                f"ignored: {self.untrusted} page-script events, {self.forged} forged reports"
            )
        lines.extend(f"problem: {p}" for p in self.problems[:5])
        return "\n".join(lines)

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
    refreshed: int = 0  # of `captures`: re-captures while the person was idle

    def summary(self) -> str:
        """A few lines for the terminal; never a typed value."""
        kinds: dict[str, int] = {}
        for action in self.actions:
            kinds[action.kind] = kinds.get(action.kind, 0) + 1
        counts = ", ".join(f"{n} {kind}" for kind, n in kinds.items()) or "none"
        stats = self.stats
        after = self.captures - self.refreshed
        captures = f"captures: {self.captures} ({after} after actions"
        if self.refreshed:
            captures += f", {self.refreshed} while you were idle, so the parts do not expire"
        captures += ")"
        if stats.unchanged:
            captures += f"; {stats.unchanged} of an unchanged page, its image not sent again"
        lines = [
            f"actions: {len(self.actions)}, one per thing you did ({counts})",
            captures,
            f"store writes: {stats.uploaded} sent, {stats.dropped} dropped (a capture writes its "
            "screenshot, observation and step record; the run record is written at the start "
            "and the end)",
        ]
        if self.untrusted or self.forged:
            lines.append(
                f"ignored: {self.untrusted} page-script events, {self.forged} forged reports"
            )
        lines.extend(f"problem: {p}" for p in self.problems[:5])
        return "\n".join(lines)

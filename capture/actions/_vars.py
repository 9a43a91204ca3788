"""Resolved `${NAME}` variables, as every step sees them: `expand` for the page, `describe`
for people and records, `mask` for any other text. Which values are secret is decided
where variables are resolved (a task file's `vars`, the MCP server's `--secrets`); here only
how they are shown. `$${` writes a literal `${`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from capture.errors import TaskError

__all__ = ["REFERENCE", "Vars", "substitute"]

M = TypeVar("M", bound=BaseModel)

REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Vars:
    """Resolved variables: `expand` for the browser, `describe` for people and records."""

    values: Mapping[str, str] = field(default_factory=dict)
    secret_names: frozenset[str] = frozenset()

    @property
    def secrets(self) -> list[str]:
        """The secret values (for the recorder's redaction list); never print these."""
        return [self.values[name] for name in sorted(self.secret_names) if self.values[name]]

    def _sub(self, text: str, *, mask: bool) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "${"
            if mask and name in self.secret_names:
                return "${" + name + "}"
            if name not in self.values:
                raise TaskError(f"variable ${{{name}}} is not set")
            return self.values[name]

        return REFERENCE.sub(one, text)

    def expand(self, text: str) -> str:
        """The text with every `${NAME}` replaced by its value (for the page)."""
        return self._sub(text, mask=False)

    def describe(self, text: str) -> str:
        """The text with public values filled in and secrets left as `${NAME}`."""
        return self._sub(text, mask=True)

    def mask(self, text: str) -> str:
        """Any text (an error message, say) with secret values replaced by `${NAME}`."""
        for name in sorted(self.secret_names, key=lambda n: -len(self.values[n])):
            if value := self.values[name]:
                text = text.replace(value, "${" + name + "}")
        return text


def substitute(model: M, sub: Callable[[str], str]) -> M:
    """A copy of `model` with `sub` applied to every string field (nested too): `Vars.expand`
    for the page, `Vars.describe` for people."""
    update: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, str):
            update[name] = sub(value)
        elif isinstance(value, list):
            update[name] = [
                sub(v)
                if isinstance(v, str)
                else substitute(v, sub)
                if isinstance(v, BaseModel)
                else v
                for v in value
            ]
        elif isinstance(value, BaseModel):
            update[name] = substitute(value, sub)
    return model.model_copy(update=update)

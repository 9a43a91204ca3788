"""`with` and `async with` for objects whose whole exit is `close()`.

The session clients and the recorders each come in a sync and an async face; these two
mixins give every face the same context-manager protocol, written once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

__all__ = ["AsyncClosing", "Closing"]


class Closing(ABC):
    """`with obj:` returns `obj` and closes it on the way out, whatever happened."""

    @abstractmethod
    def close(self) -> None:
        """Release what the object holds."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncClosing(ABC):
    """`async with obj:` returns `obj` and awaits its close on the way out."""

    @abstractmethod
    async def close(self) -> None:
        """Release what the object holds."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

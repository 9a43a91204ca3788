"""The exception tree: every error capture raises on purpose derives from `CaptureError`.

    CaptureError
    ├── UsageError                a bad argument or option on the command line (exit 2)
    ├── ConfigError               a bad config value (names the key and where it came from)
    ├── SessionStoreError         the session store answered with an error (status, message)
    │   ├── BadRequestError       400: bad JSON, key, id or expiry
    │   ├── AuthError             401/403: missing or wrong token
    │   ├── PayloadTooLargeError  413: body over the server's limit
    │   └── StoreUnavailableError cannot connect, timed out, or 5xx/429 after the retries
    ├── StorageError              a storage backend failed (server side)
    ├── BrowserError              no browser found, or it could not be launched/attached
    │   └── RefNotFoundError      an element ref from an observation is unknown or stale
    ├── TaskError                 a task file is invalid, or a step failed
    ├── LiveError                 a live recording cannot start or stop (capture record)
    └── AgentContextError         a user part cannot be rendered as model input

The CLI turns any `CaptureError` into one line on stderr and its `exit_code`: 2 for a
`UsageError` (click's code for bad usage), 1 for every other error.
"""

from __future__ import annotations

__all__ = [
    "AgentContextError",
    "AuthError",
    "BadRequestError",
    "BrowserError",
    "CaptureError",
    "ConfigError",
    "LiveError",
    "PayloadTooLargeError",
    "RefNotFoundError",
    "SessionStoreError",
    "StorageError",
    "StoreUnavailableError",
    "TaskError",
    "UsageError",
]


class CaptureError(Exception):
    """Root of every deliberate capture error."""

    exit_code = 1
    """What the `capture` command exits with after printing the error's one line."""


class UsageError(CaptureError):
    """The command line itself is wrong (a bad option value, a thread id the store would
    refuse): found before anything starts, so nothing ran."""

    exit_code = 2


class ConfigError(CaptureError):
    """A configuration value is invalid; the message names the key and where it came from.

    `command_line` is True when every bad value came from a command-line option, which the
    CLI then reports as bad usage.
    """

    def __init__(self, message: str, *, command_line: bool = False) -> None:
        super().__init__(message)
        self.command_line = command_line


class SessionStoreError(CaptureError):
    """The session store answered with an error status.

    `status` is the HTTP status (0 when no answer was received) and `message` the server's
    `{"error": ...}` text, so callers can branch without parsing strings.
    """

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BadRequestError(SessionStoreError):
    """400: the server rejected the input (bad JSON, key, id or expiry)."""


class AuthError(SessionStoreError):
    """401/403: the server wants a token and got none, or a wrong one."""


class PayloadTooLargeError(SessionStoreError):
    """413: the request body is over the server's size limit."""


class StoreUnavailableError(SessionStoreError):
    """The store could not be reached, or kept failing (5xx/429) through every retry."""


class StorageError(CaptureError):
    """A storage backend failed; the server answers 503 with this message."""


class BrowserError(CaptureError):
    """No usable browser, or launching/attaching to one failed."""


class RefNotFoundError(BrowserError):
    """An element ref (like `e12` or `f1e3`) names no element on the page any more."""


# What an error about refs tells the reader to do for current ones. Each front door may say
# it in its own words (the MCP server: call browser_snapshot) by replacing this phrase.
NEW_CAPTURE = "take a new capture"


class TaskError(CaptureError):
    """A task file is invalid, or a step of it failed."""


class LiveError(CaptureError):
    """A live recording cannot start or stop (no thread given, none running to stop)."""


class AgentContextError(CaptureError):
    """A user part cannot be rendered as model input (unreadable image, unknown format)."""

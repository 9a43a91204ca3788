"""capture: a screenshot and a page-state observation of every browser step, stored as
Distri session user parts so the next agent iteration sees the page as it is now."""

from capture._version import __version__
from capture.config import Config, load_config
from capture.errors import (
    AgentContextError,
    AuthError,
    BadRequestError,
    BrowserError,
    CaptureError,
    ConfigError,
    LiveError,
    PayloadTooLargeError,
    RefNotFoundError,
    SessionStoreError,
    StorageError,
    StoreUnavailableError,
    TaskError,
    UsageError,
)
from capture.session import (
    AsyncSessionClient,
    ImageBytes,
    ImagePart,
    ImageUrl,
    Part,
    SessionClient,
    SessionInfo,
    TextPart,
)

__all__ = [
    "AgentContextError",
    "AsyncSessionClient",
    "AuthError",
    "BadRequestError",
    "BrowserError",
    "CaptureError",
    "Config",
    "ConfigError",
    "ImageBytes",
    "ImagePart",
    "ImageUrl",
    "LiveError",
    "Part",
    "PayloadTooLargeError",
    "RefNotFoundError",
    "SessionClient",
    "SessionInfo",
    "SessionStoreError",
    "StorageError",
    "StoreUnavailableError",
    "TaskError",
    "TextPart",
    "UsageError",
    "__version__",
    "load_config",
]

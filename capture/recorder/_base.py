"""What `Recorder` and `SyncRecorder` hold in common: the config, the core, the page I/O,
the upload queue, the pages followed and their events. The faces add only how they wait."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from capture.config import CaptureConfig
from capture.recorder._core import RecorderCore
from capture.recorder._image import EncodedImage
from capture.recorder._io import PageIO
from capture.recorder._lagging import Sampler
from capture.recorder._upload import RecorderStats, UploaderBase, Write
from capture.recorder.observe import PageEvents
from capture.session import BaseSessionClient

__all__ = ["RecorderBase"]

PageT = TypeVar("PageT")
ClientT = TypeVar("ClientT", bound=BaseSessionClient)
UploaderT = TypeVar("UploaderT", bound=UploaderBase)


class RecorderBase(Generic[PageT, ClientT, UploaderT]):
    """State and the non-I/O public surface shared by both faces.

    A face names its upload queue in `_uploader_type` (called as `(client, thread_id,
    **options)`).
    """

    _uploader_type: Callable[..., UploaderT]

    def __init__(
        self,
        page: PageT,
        client: ClientT,
        thread_id: str,
        *,
        config: CaptureConfig | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.config = config or CaptureConfig()
        self.thread_id = thread_id
        self._core = RecorderCore(thread_id, self.config, secrets, client.set_body)
        self._uploader = self._uploader_type(
            client,
            thread_id,
            queue_size=self.config.queue_size,
            retries=self.config.upload_retries,
            stats=self._core.stats,
        )
        self._page = page
        self._pages = [page]
        self._events = PageEvents(page)
        self._io = PageIO(self.config)
        self._sampler = Sampler(self._io, self._core, self._queue)

    @property
    def page(self) -> PageT:
        """The page captured; set it to follow a new tab."""
        return self._page

    @page.setter
    def page(self, page: PageT) -> None:
        self._page = page
        if all(seen is not page for seen in self._pages):
            self._pages.append(page)
        self._events.attach(page)

    @property
    def stats(self) -> RecorderStats:
        """Captures and unchanged steps; uploaded and dropped *writes*."""
        return self._core.stats

    @property
    def pending(self) -> int:
        """Writes queued or in flight (what a close would still wait for)."""
        return self._uploader.pending

    def names(self) -> dict[str, str]:
        """What the latest observation calls each ref (`link "Blue Mug"`), for action texts
        that name the element a ref stood for."""
        return self._core.names()

    def add_secrets(self, *values: str) -> None:
        """Literal values to redact from every text from now on (never stored themselves)."""
        self._core.add_secrets(*values)

    def sent_image(self, step: int, image: EncodedImage) -> None:
        """Keep the small image a front door sent with step `step`'s answer (the MCP glance),
        so the viewer shows what the client saw; queued like every write."""
        write = self._core.glance_write(step, image)
        if write is not None:
            self._queue([write])

    def action_began(self) -> None:
        """The caller's next action starts now: a background capture (`capture_soon`) whose
        frame comes later is not exact."""
        self._sampler.began()

    def hold_writes(self) -> None:
        """Keep this recorder's writes in memory, unsent, until `release_writes` (send them
        all, in order) or `discard_writes` (they never leave the process)."""
        self._uploader.hold()

    def release_writes(self) -> None:
        """Send the held writes, every one in order, and send later writes as they come."""
        self._uploader.release()

    def discard_writes(self) -> int:
        """Forget the held writes; returns how many there were."""
        return self._uploader.discard()

    def _queue(self, writes: list[Write]) -> None:
        for write in writes:
            self._uploader.put(write)

    def _detach_events(self) -> None:
        for page in self._pages:
            self._events.detach(page)

    def _raise_if_strict(self) -> None:
        """In strict mode, raise the first store error since the last check (once)."""
        if self.config.strict and self._uploader.errors:
            first = self._uploader.errors[0]
            self._uploader.errors.clear()
            raise first

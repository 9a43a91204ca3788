"""Everything a capture decides without I/O, shared by `Recorder` and `SyncRecorder`.

The faces read the page and take the screenshot; `RecorderCore` turns what they got into
the writes to queue: it sizes the image for the byte budget, scrubs every text, detects
change by exact hashes, decides whether the image must be (re-)uploaded, formats the
observation and the step record, and prunes old step records.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from capture.config import CaptureConfig
from capture.recorder._image import EncodedImage, RectLike, extension, finish_image
from capture.recorder._records import GLANCE_KEY, RUN_KEY, run_record, step_key, step_record
from capture.recorder._screenshot import Shot
from capture.recorder._upload import RecorderStats, Write
from capture.recorder.observe import (
    EventsSnapshot,
    PageState,
    Scrubber,
    diff_outline,
    format_observation,
)
from capture.recorder.observe._outline import ref_names, short_error
from capture.session import ImageBytes, ImagePart, TextPart, user_part_key

__all__ = [
    "BodySize",
    "CaptureResult",
    "RecorderCore",
    "StepInput",
    "failure_note",
]


BodySize = Callable[[str, Any, datetime | None], bytes]


@dataclass
class CaptureResult:
    """What one capture did: `stored` lists the keys queued for writing, `image_bytes` the
    size of the image queued (0 when unchanged or late)."""

    step: int
    action: str
    changed: bool
    stored: list[str]
    image_bytes: int
    observation: str
    timings: dict[str, float]
    notes: list[str]
    image: EncodedImage | None = None  # this step's final image, stored or not


@dataclass
class StepInput:
    """What a face gathered for one step; None for a part that was not ready in time."""

    step: int
    action: str
    status: str
    error: str | None
    started: datetime
    url: str
    title: str
    image: EncodedImage | None
    state: PageState | None
    events: EventsSnapshot
    located: bool = False  # the sensitive fields were located (a screenshot was allowed)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # Monotonic seconds: when the step's action ended (its capture was asked for), when its
    # screenshot came back, and when the test's next action began (None: not yet).
    ended: float = field(default_factory=time.monotonic)
    shot_at: float | None = None
    next_began: float | None = None
    exact: bool = True  # no later action can show in the image (see `_lagging`)
    masks_unsure: bool = False  # a background image dropped: its masks were not current

    def forget_read(self, notes: int) -> None:
        """Undo a read that was given up (`_lagging`): what it filled in, and its notes
        (those after the first `notes`)."""
        self.image, self.state, self.shot_at = None, None, None
        self.located = self.masks_unsure = False
        del self.notes[notes:]
        self.timings.clear()

    @property
    def lag(self) -> float | None:
        """Seconds from the action's end to its screenshot (None: no screenshot)."""
        return None if self.shot_at is None else self.shot_at - self.ended

    def record(self, scrub: Callable[[str], str], **fields: Any) -> dict[str, Any]:
        """This step's record: what the step itself says, and the capture's `fields`."""
        return step_record(
            step=self.step,
            action=self.action,
            url=self.url,
            time=self.started,
            status=self.status,
            error=self.error,
            notes=self.notes,
            scrub=scrub,
            lag=self.lag,
            **fields,
        )


@dataclass
class _Stored:
    """The image the store holds (or will, once the queue drains), and until when."""

    sha256: str
    step: int
    expires: datetime | None


UNKNOWN_CHANGES = "(unknown: no outline this time, see the notes)"
PARTIAL_CHANGES = "(unknown: the outline is partial this time)"


def failure_note(part: str, exc: BaseException) -> str:
    """A note for a part that failed (the first line of a Playwright error is the message)."""
    return f"{part} failed: {short_error(exc)}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _expiry(now: datetime, duration: timedelta) -> datetime | None:
    """A zero duration means the value does not expire."""
    return now + duration if duration > timedelta(0) else None


class RecorderCore:
    """Per-recorder state and the pure steps of a capture."""

    def __init__(
        self,
        thread_id: str,
        config: CaptureConfig,
        secrets: Iterable[str],
        body: BodySize,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.thread_id = thread_id
        self.config = config
        self.stats = RecorderStats()
        self.scrub = Scrubber([*config.secrets, *secrets])
        self.step = 0
        self.failed = 0  # steps captured with status "failed"
        self.clock = clock
        self._body = body
        self._image_hash: str | None = None
        self._outline: list[str] | None = None
        self._outline_url = ""
        self._outline_hash: str | None = None
        self._stored: _Stored | None = None
        self._run: dict[str, Any] | None = None
        # What `encode` made last, and from what (the raw bytes' hash, viewport, width, rects).
        self._last_encoded: tuple[tuple[Any, ...], EncodedImage] | None = None

    # -- before I/O ------------------------------------------------------------------------

    def begin(
        self,
        action: str,
        status: str,
        error: str | None,
        url: str,
        events: EventsSnapshot,
        *,
        redo: int | None = None,
    ) -> StepInput:
        """Number the next step (or take step `redo` again) and start collecting what the
        face reads for it."""
        if redo is None:
            self.step += 1
            self.stats.captures += 1
            self.failed += status == "failed"
        return StepInput(
            step=self.step if redo is None else redo,
            action=action,
            status=status,
            error=error,
            started=self.clock(),
            url=url,
            title="",
            image=None,
            state=None,
            events=events,
        )

    def add_secrets(self, *values: str) -> None:
        self.scrub.add(*values)

    def names(self) -> dict[str, str]:
        """What the latest full outline calls each ref (`link "Blue Mug"`)."""
        return ref_names(self._outline or [])

    def fits(self, key: str, value: Any, expiry: datetime | None) -> bool:
        """Whether the request body of this write is within the byte budget."""
        return len(self._body(key, value, expiry)) <= self.config.max_request_bytes

    def _image_value(self, data: bytes, mime_type: str, step: int) -> dict[str, Any]:
        part = ImagePart(
            data=ImageBytes(
                bytes=base64.b64encode(data).decode("ascii"),
                mime_type=mime_type,
                name=f"step-{step}.{extension(mime_type)}",
            )
        )
        return part.model_dump(mode="json")

    def encode(self, shot: Shot, rects: Sequence[RectLike], step: int) -> EncodedImage:
        """Mask, scale and encode a raw screenshot within the budget (CPU: run in a thread)."""
        cfg = self.config
        mime = f"image/{cfg.image_format}"
        key = user_part_key(cfg.screenshot_key)
        expiry = _expiry(self.clock(), cfg.screenshot_expiry)

        def fits(data: bytes) -> bool:
            return self.fits(key, self._image_value(data, mime, step), expiry)

        # An unchanged page gives the same browser bytes: with fields to mask, skip the
        # decode, mask and encode (the slow path) and reuse the last result.
        source = (
            _sha256(shot.data),
            shot.viewport,
            shot.target_width,
            tuple((r.x, r.y, r.width, r.height) for r in rects),
        )
        last = self._last_encoded
        if last is not None and last[0] == source and fits(last[1].data):
            return last[1]
        image = finish_image(
            shot.data,
            css_size=(shot.viewport.width, shot.viewport.height),
            rects=rects,
            fmt=cfg.image_format,
            quality=cfg.quality,
            target_width=shot.target_width,
            fits=fits,
            raw_is_final=shot.final,
        )
        self._last_encoded = (source, image)
        return image

    # -- after I/O -------------------------------------------------------------------------

    def _observation(self, got: StepInput, diff: list[str] | None) -> tuple[str, dict[str, Any]]:
        """Format, scrub and fit the observation; halve the char budget until it fits."""
        cfg = self.config
        key = user_part_key(cfg.observation_key)
        expiry = _expiry(self.clock(), cfg.observation_expiry)
        budget = cfg.observation_chars
        while True:
            text = format_observation(
                step=got.step,
                action=got.action,
                state=got.state,
                diff=diff,
                events=got.events,
                char_budget=budget,
                notes=got.notes,
                scrub=self.scrub,
                error=got.error,
                url=got.url,
            )
            value = TextPart(data=text).model_dump(mode="json")
            if self.fits(key, value, expiry) or budget <= 500:
                return text, value
            budget //= 2

    def conclude(self, got: StepInput) -> tuple[CaptureResult, list[Write]]:
        """Decide what to store for one step; return the result and the writes to queue."""
        cfg = self.config
        now = self.clock()
        if got.image is None:
            got.exact = False
            got.notes.append(self.kept_note(located=got.located, dropped=got.masks_unsure))
        if got.state is None:
            got.notes.append("outline not ready within the time box; left out this time")
        else:
            got.url, got.title = got.state.url, got.state.title
            self.scrub.add(*got.state.secret_values)
        image_hash = _sha256(got.image.data) if got.image is not None else None
        outline_hash = (
            _sha256("\n".join(got.state.outline).encode()) if got.state is not None else None
        )
        seen = [(image_hash, self._image_hash), (outline_hash, self._outline_hash)]
        changed = any(new != old for new, old in seen if new is not None) or all(
            new is None for new, _ in seen
        )
        # None: the first outline. Without an outline, or with a partial one (whatever it
        # had not read would show as removed), the changes are unknown, which is not "no
        # visible change"; the next full outline is compared with the last full one.
        diff: list[str] | None = None
        if self._outline is not None:
            if got.state is None:
                diff = [UNKNOWN_CHANGES]
            elif got.state.partial:
                diff = [PARTIAL_CHANGES]
            else:
                diff = diff_outline(
                    self._outline, got.state.outline, self._outline_url, got.state.url
                )
        if got.state is not None and not got.state.partial:
            self._outline, self._outline_hash = got.state.outline, outline_hash
            self._outline_url = got.state.url
        if image_hash is not None:
            self._image_hash = image_hash
        if not changed:
            self.stats.unchanged += 1

        writes: list[Write] = []
        if got.image is not None and got.image.fits and image_hash is not None:
            if self._needs_upload(image_hash, now):
                writes.append(self._image_write(got.image, image_hash, got.step, now))
            else:
                got.notes.append(f"screenshot unchanged since step {self._stored_step()}")
        elif got.image is not None:
            got.notes.append("screenshot over the byte budget at every size; not stored")

        text, value = self._observation(got, diff)
        key = user_part_key(cfg.observation_key)
        writes.append(Write(key, value, _expiry(now, cfg.observation_expiry)))

        record = got.record(
            self.scrub,
            title=got.title,
            changed=changed,
            image_hash=image_hash,
            outline_hash=outline_hash,
            image_bytes=len(got.image.data) if got.image is not None else 0,
            observation_chars=len(text),
            timings=got.timings,
            masks=got.image.boxes if got.image is not None else (),
            exact=got.exact,
        )
        writes.append(Write(step_key(got.step), record, _expiry(now, cfg.record_expiry)))
        if got.status == "failed" and self._run is not None:
            # The run record counts it now, not only when the run ends (an MCP session
            # may stay open for hours).
            writes.append(self._run_write(self._run["status"], self._run.get("finished")))
        if got.step > cfg.keep_steps:
            writes.append(Write(step_key(got.step - cfg.keep_steps), None))
        shot_key = user_part_key(cfg.screenshot_key)
        result = CaptureResult(
            step=got.step,
            action=got.action,
            changed=changed,
            stored=[w.key for w in writes if w.value is not None],
            image_bytes=len(got.image.data) if got.image and writes[0].key == shot_key else 0,
            observation=text,
            timings=dict(got.timings),
            notes=list(got.notes),
            image=got.image,
        )
        return result, writes

    def record_only(self, got: StepInput, taken_with: int) -> tuple[CaptureResult, list[Write]]:
        """A step whose image and outline are a later step's (`_lagging`): its record only,
        never exact; that step's capture stores the image and the observation."""
        note = f"image and outline taken with step {taken_with}"
        got.notes.append(note)
        record = got.record(
            self.scrub,
            title="",
            changed=True,
            image_hash=None,
            outline_hash=None,
            image_bytes=0,
            observation_chars=0,
            timings={},
            exact=False,
        )
        write = Write(step_key(got.step), record, _expiry(self.clock(), self.config.record_expiry))
        text = f"# Step {got.step}: {self.scrub(got.action)}\n({note})"
        result = CaptureResult(
            step=got.step,
            action=got.action,
            changed=True,
            stored=[write.key],
            image_bytes=0,
            observation=text,
            timings={},
            notes=list(got.notes),
            image=got.image,
        )
        return result, [write]

    def _stored_step(self) -> int:
        return self._stored.step if self._stored is not None else 0

    def _needs_upload(self, image_hash: str, now: datetime) -> bool:
        """Re-upload an unchanged image only when less than half its lifetime is left."""
        stored = self._stored
        if stored is None or stored.sha256 != image_hash:
            return True
        if stored.expires is None:
            return False
        return stored.expires - now < self.config.screenshot_expiry / 2

    def _image_write(self, image: EncodedImage, sha: str, step: int, now: datetime) -> Write:
        cfg = self.config
        expiry = _expiry(now, cfg.screenshot_expiry)
        stored = _Stored(sha, step, expiry)
        self._stored = stored

        def done(ok: bool) -> None:
            # A dropped upload means the store does not hold this image: send it next time.
            if not ok and self._stored is stored:
                self._stored = None

        value = self._image_value(image.data, image.mime_type, step)
        return Write(user_part_key(cfg.screenshot_key), value, expiry, done)

    def kept_note(self, *, located: bool, dropped: bool = False) -> str:
        """The note for a step without a new image: why, and which image the agent sees.

        `located` False: the sensitive fields could not be located in time, and an image
        that might show a secret is never taken. `dropped`: a background image whose masks
        could not be shown current (see `_lagging`).
        """
        kept = self._stored_step()
        where = f"the stored image is from step {kept}" if kept else "no image stored yet"
        if dropped:
            why = "dropped (the masks of its frame could not be shown current)"
        elif located:
            why = "not ready in time"
        else:
            why = "skipped (sensitive fields not located in time)"
        return f"screenshot {why}: {where}"

    # -- the run record --------------------------------------------------------------------

    def start_run(self, name: str, info: dict[str, Any]) -> Write:
        self._run = {"name": name, "info": info, "started": self.clock(), "status": "running"}
        return self._run_write("running", None)

    def finish_run(self, status: str) -> Write:
        if self._run is None:
            self._run = {"name": "", "info": {}, "started": None}
        self._run.update(status=status, finished=self.clock())
        return self._run_write(status, self._run["finished"])

    def glance_write(self, step: int, image: EncodedImage) -> Write | None:
        """The write of the small image a front door sent with step `step`'s answer (the MCP
        server's glance), kept as long as a screenshot; None when it is over the budget."""
        value = self._image_value(image.data, image.mime_type, step)
        value["data"]["name"] = f"glance-{value['data']['name']}"
        expiry = _expiry(self.clock(), self.config.screenshot_expiry)
        return Write(GLANCE_KEY, value, expiry) if self.fits(GLANCE_KEY, value, expiry) else None

    def _run_write(self, status: str, finished: datetime | None) -> Write:
        assert self._run is not None
        record = run_record(
            name=self._run["name"],
            status=status,
            steps=self.step,
            started=self._run["started"],
            finished=finished,
            dropped=self.stats.dropped,
            failed=self.failed,
            info=self._run["info"],
            scrub=self.scrub,
        )
        return Write(RUN_KEY, record, _expiry(self.clock(), self.config.record_expiry))

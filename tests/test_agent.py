"""capture.agent: user parts read from a real store over HTTP, rendered for each model API.

Shapes checked are the documented ones: Anthropic Messages image blocks (`source` of type
`base64` with `media_type` and `data`, or `url`), OpenAI Chat `image_url` parts with a data
URL, OpenAI Responses `input_image` (with the required `detail`) / `input_text`, and Distri
Parts as the session models validate them.
"""

from __future__ import annotations

import base64
import io
import json
import tomllib
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from capture.agent import (
    FORMATS,
    distri_snippet,
    fit_image,
    read_content,
    read_content_sync,
    render_part,
    render_parts,
    user_message,
)
from capture.cli import app
from capture.errors import AgentContextError
from capture.session import (
    AsyncSessionClient,
    ImageBytes,
    ImagePart,
    ImageUrl,
    SessionClient,
    TextPart,
    part_adapter,
)
from capture.store import MemoryStore
from tests.conftest import Clock, StartStore

OBSERVATION = 'Step 3: click [ref=e7]\nURL: http://127.0.0.1/shop\n- button "Add" [ref=e9]'


def image_bytes(size: tuple[int, int], fmt: str = "JPEG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def decoded(data: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data)))


@pytest.fixture
def thread(store_server: Any) -> tuple[str, str]:
    """A thread holding what the recorder stores: a JPEG screenshot and an observation."""
    with SessionClient(store_server.base_url) as client:
        client.set_user_part_text("t1", "observation", OBSERVATION, expiry=timedelta(minutes=5))
        client.set_user_part_image(
            "t1",
            "screenshot",
            image_bytes((800, 500)),
            mime_type="image/jpeg",
            filename="step-3.jpg",
            expiry=timedelta(minutes=5),
        )
        client.set_session_value("t1", "capture.run", {"status": "running"})  # not a part
    return store_server.base_url, "t1"


def read_thread(thread: tuple[str, str], fmt: str) -> list[dict[str, Any]]:
    """The thread's user parts rendered for `fmt`, read with the blocking client."""
    base_url, thread_id = thread
    with SessionClient(base_url) as client:
        return read_content_sync(client, thread_id, fmt)  # type: ignore[arg-type]


def test_anthropic_blocks_are_a_base64_image_then_the_text(thread: tuple[str, str]) -> None:
    blocks = read_thread(thread, "anthropic")
    assert [b["type"] for b in blocks] == ["image", "text"]
    image, text = blocks
    assert set(image) == {"type", "source"}
    assert set(image["source"]) == {"type", "media_type", "data"}
    assert image["source"]["type"] == "base64"
    assert image["source"]["media_type"] == "image/jpeg"
    assert decoded(image["source"]["data"]).size == (800, 500)
    assert text == {"type": "text", "text": OBSERVATION}
    message = user_message(blocks, "anthropic")
    assert message == {"role": "user", "content": blocks}


def test_openai_chat_parts_carry_a_data_url(thread: tuple[str, str]) -> None:
    image, text = read_thread(thread, "openai")
    assert image["type"] == "image_url"
    url = image["image_url"]["url"]
    prefix = "data:image/jpeg;base64,"
    assert url.startswith(prefix)
    assert decoded(url[len(prefix) :]).size == (800, 500)
    assert text == {"type": "text", "text": OBSERVATION}


def test_openai_responses_parts_are_input_image_and_input_text(thread: tuple[str, str]) -> None:
    image, text = read_thread(thread, "openai-responses")
    assert image["type"] == "input_image"
    assert image["detail"] == "auto"
    assert image["image_url"].startswith("data:image/jpeg;base64,")
    assert text == {"type": "input_text", "text": OBSERVATION}


async def test_distri_parts_round_trip_through_the_wire_models(thread: tuple[str, str]) -> None:
    base_url, thread_id = thread
    async with AsyncSessionClient(base_url) as client:
        parts = await read_content(client, thread_id, "distri", max_edge=400)
    image, text = (part_adapter.validate_python(p) for p in parts)
    assert isinstance(image, ImagePart)
    assert isinstance(image.data, ImageBytes)
    assert image.data.name == "step-3.jpg"
    assert image.data.mime_type == "image/jpeg"
    assert decoded(image.data.bytes).size == (400, 250)
    assert text == TextPart(data=OBSERVATION)
    assert user_message(parts, "distri") == {"role": "user", "parts": parts}


def test_resize_keeps_aspect_and_leaves_small_images_untouched() -> None:
    data = base64.b64encode(image_bytes((1600, 900))).decode()
    scaled, mime = fit_image(data, "image/jpeg", 800)
    assert mime == "image/jpeg"
    assert decoded(scaled).size == (800, 450)
    assert fit_image(data, "image/jpeg", 2000) == (data, "image/jpeg")
    assert fit_image(data, "image/jpeg") == (data, "image/jpeg")


def test_a_type_no_model_accepts_is_re_encoded_as_png() -> None:
    bmp = base64.b64encode(image_bytes((40, 30), "BMP")).decode()
    block = render_part(ImagePart(data=ImageBytes(bytes=bmp, mime_type="image/bmp")), "anthropic")
    assert block["source"]["media_type"] == "image/png"
    assert decoded(block["source"]["data"]).format == "PNG"


def test_url_images_pass_through_by_url() -> None:
    part = ImagePart(data=ImageUrl(url="https://example.invalid/a.png", mime_type="image/png"))
    assert render_part(part, "anthropic") == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.invalid/a.png"},
    }
    assert render_part(part, "openai")["image_url"]["url"] == "https://example.invalid/a.png"
    assert render_part(part, "openai-responses")["image_url"] == "https://example.invalid/a.png"
    assert render_part(part, "distri") == part.model_dump(mode="json")


def test_order_puts_named_parts_first_then_the_rest_by_name() -> None:
    parts = {
        "zeta": TextPart(data="z"),
        "observation": TextPart(data="o"),
        "alpha": TextPart(data="a"),
    }
    texts = [b["text"] for b in render_parts(parts, "openai")]
    assert texts == ["o", "a", "z"]
    texts = [b["text"] for b in render_parts(parts, "openai", order=["__user_part_zeta"])]
    assert texts == ["z", "a", "o"]


def test_bad_input_is_a_clear_agent_context_error() -> None:
    broken = ImagePart(
        data=ImageBytes(bytes=base64.b64encode(b"not an image").decode(), mime_type="image/jpeg")
    )
    with pytest.raises(AgentContextError, match="not a readable image"):
        render_part(broken, "anthropic", max_edge=100)
    with pytest.raises(AgentContextError, match="unknown format"):
        render_part(TextPart(data="x"), "gemini")  # type: ignore[arg-type]
    with pytest.raises(AgentContextError, match="positive"):
        fit_image("", "image/png", 0)


def test_a_value_that_is_not_a_part_reaches_the_model_as_a_json_dump(store_server: Any) -> None:
    with SessionClient(store_server.base_url) as client:
        client.set_session_value("t2", "__user_part_odd", {"partType": "image"})
        blocks = read_content_sync(client, "t2", "anthropic")
    assert blocks == [{"type": "text", "text": json.dumps({"partType": "image"})}]


def test_distri_snippet_is_toml_with_session_key_sources() -> None:
    parsed = tomllib.loads(distri_snippet())
    assert parsed["user_message_overrides"]["parts"] == [
        {"type": "session_key", "source": "__user_part_screenshot"},
        {"type": "session_key", "source": "__user_part_observation"},
    ]


# -- the CLI -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_prints_each_format_as_json(thread: tuple[str, str], fmt: str) -> None:
    base_url, thread_id = thread
    result = CliRunner().invoke(
        app,
        ["agent-context", thread_id, "--format", fmt, "--server", base_url, "--max-edge", "200"],
    )
    assert result.exit_code == 0, result.output
    blocks = json.loads(result.stdout)
    with SessionClient(base_url) as client:
        expected = read_content_sync(client, thread_id, fmt, max_edge=200)  # type: ignore[arg-type]
    assert blocks == expected
    assert len(blocks) == 2


def test_cli_message_wraps_and_snippet_prints_toml(thread: tuple[str, str]) -> None:
    base_url, thread_id = thread
    runner = CliRunner()
    wrapped = runner.invoke(app, ["agent-context", thread_id, "--message", "--server", base_url])
    assert json.loads(wrapped.stdout)["role"] == "user"
    snippet = runner.invoke(app, ["agent-context", "--distri-snippet"])
    assert snippet.exit_code == 0
    assert tomllib.loads(snippet.stdout)["user_message_overrides"]["parts"][0]["source"] == (
        "__user_part_screenshot"
    )


def test_cli_refuses_an_unknown_format_and_a_missing_thread(store_server: Any) -> None:
    runner = CliRunner()
    bad = runner.invoke(
        app, ["agent-context", "t", "--format", "gemini", "--server", store_server.base_url]
    )
    assert bad.exit_code == 2
    assert "unknown --format 'gemini'" in bad.stderr
    missing = runner.invoke(app, ["agent-context", "--server", store_server.base_url])
    assert missing.exit_code == 2
    assert "THREAD" in missing.stderr


def test_parts_that_expired_are_said_to_have_expired_and_when(
    start_store_server: StartStore,
) -> None:
    clock = Clock()
    served = start_store_server(MemoryStore(clock=clock))
    expiry = Clock.START + timedelta(minutes=1)
    with SessionClient(served.base_url) as client:
        client.set_user_part_text("t-old", "observation", "the page", expiry=expiry)
        client.set_user_part_image("t-old", "screenshot", image_bytes((8, 8)), expiry=expiry)
    clock.advance(minutes=5)
    runner = CliRunner()
    done = runner.invoke(app, ["agent-context", "t-old", "--server", served.base_url])
    assert done.exit_code == 0
    assert done.stdout.strip() == "[]"
    assert done.stderr == (
        "note: thread 't-old' has no live user parts: the last expired at "
        "2026-11-25T12:01:00.000Z\n"
    )
    never = runner.invoke(app, ["agent-context", "t-never", "--server", served.base_url])
    assert never.stderr == "note: thread 't-never' has no live user parts\n"

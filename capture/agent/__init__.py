"""Session user parts as model input: Anthropic, OpenAI Chat/Responses and Distri content."""

from capture.agent._distri import DEFAULT_KEYS, distri_snippet
from capture.agent._render import (
    FORMATS,
    Format,
    fit_image,
    order_parts,
    read_content,
    read_content_sync,
    render_part,
    render_parts,
    user_message,
)

__all__ = [
    "DEFAULT_KEYS",
    "FORMATS",
    "Format",
    "distri_snippet",
    "fit_image",
    "order_parts",
    "read_content",
    "read_content_sync",
    "render_part",
    "render_parts",
    "user_message",
]

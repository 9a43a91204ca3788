"""Session user parts as model input: Anthropic, OpenAI Chat/Responses and Distri content."""

from capture.agent import _render
from capture.agent._distri import DEFAULT_KEYS, distri_snippet
from capture.agent._render import *  # noqa: F403 - the renderers, listed in _render.__all__

__all__ = ["DEFAULT_KEYS", "distri_snippet"]
__all__ += _render.__all__

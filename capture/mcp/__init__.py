"""`capture mcp`: an MCP server whose browser tools have Playwright MCP's names and
parameters and answer with capture's observation and screenshot, every step captured into
a session thread (docs/mcp.md)."""

from capture.mcp._declare import Answer, Tool
from capture.mcp._server import create_server, http_app, serve_http, serve_stdio
from capture.mcp._tools import TOOLS, BrowserTools, tool_list

__all__ = [
    "TOOLS",
    "Answer",
    "BrowserTools",
    "Tool",
    "create_server",
    "http_app",
    "serve_http",
    "serve_stdio",
    "tool_list",
]

"""The MCP server: tools, resources, and the two transports (stdio, streamable HTTP).

Built on the official SDK's low-level `Server`, so the tool schemas are exactly the ones
declared with each tool (`_declare`, Playwright MCP's names and parameters) rather than
derived from Python signatures. Resources: the thread's current observation and
screenshot, read from the session store, so a client sees what a Distri agent reading the
thread sees.
"""

from __future__ import annotations

import re
from typing import Any

import uvicorn
from mcp import types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from capture.mcp._outline import ToolError
from capture.mcp._tools import BrowserTools, tool_list
from capture.session import AsyncSessionClient, user_part_key

__all__ = ["create_server", "http_app", "serve_http", "serve_stdio"]

INSTRUCTIONS = (
    "A browser whose every step is captured into a session thread. Each response is the "
    "page as capture sees it: URL, title, an outline with element refs (e12, f1e3), what "
    "changed, console errors and failed requests, and a small glance of the screenshot when "
    "the page is new or looks different (browser_take_screenshot sends the full one). Act on "
    "refs from the latest response. The outline fits a character budget: browser_find and "
    "browser_snapshot with target or depth reach what it left out."
)
_RESOURCE = re.compile(r"^capture://threads/(?P<thread>[^/]+)/(?P<part>observation|screenshot)$")


def _resource_uri(thread: str, part: str) -> str:
    return f"capture://threads/{thread}/{part}"


def create_server(tools: BrowserTools, client: AsyncSessionClient) -> Server[Any]:
    """The MCP server answering with `tools`; `client` reads resources from the store."""
    capture_cfg = tools.config.capture

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tool_list())

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        answer = await tools.call(params.name, params.arguments)
        content: list[types.ContentBlock] = [types.TextContent(type="text", text=answer.text)]
        if answer.image is not None:
            content.append(
                types.ImageContent(
                    type="image", data=answer.image_base64, mime_type=answer.image.mime_type
                )
            )
        return types.CallToolResult(content=content, is_error=answer.is_error)

    async def list_resources(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        thread = tools.thread
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    name=f"{thread} observation",
                    uri=_resource_uri(thread, "observation"),
                    description="The latest observation of the thread (text)",
                    mime_type="text/plain",
                ),
                types.Resource(
                    name=f"{thread} screenshot",
                    uri=_resource_uri(thread, "screenshot"),
                    description="The latest screenshot of the thread",
                    mime_type=f"image/{capture_cfg.image_format}",
                ),
            ]
        )

    async def list_templates(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    name=f"a thread's {part}",
                    uri_template=_resource_uri("{thread}", part),
                    description=f"The latest {part} of any thread in the store",
                )
                for part in ("observation", "screenshot")
            ]
        )

    async def read_resource(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        match = _RESOURCE.match(uri)
        if match is None:
            raise ToolError(f"no such resource: {uri}")
        thread, part = match["thread"], match["part"]
        key = capture_cfg.observation_key if part == "observation" else capture_cfg.screenshot_key
        value = await client.get_session_value(thread, user_part_key(key))
        if not isinstance(value, dict) or "data" not in value:
            raise ToolError(f"thread {thread} has no {part} now (none yet, or it expired)")
        data = value["data"]
        if part == "observation" and isinstance(data, str):
            return types.ReadResourceResult(
                contents=[types.TextResourceContents(uri=uri, mime_type="text/plain", text=data)]
            )
        if part == "screenshot" and isinstance(data, dict) and data.get("bytes"):
            return types.ReadResourceResult(
                contents=[
                    types.BlobResourceContents(
                        uri=uri, mime_type=data.get("mime_type"), blob=data["bytes"]
                    )
                ]
            )
        raise ToolError(f"thread {thread} holds no readable {part}")

    return Server(
        "capture",
        version=_version(),
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("capture")
    except PackageNotFoundError:
        return "0"


async def serve_stdio(server: Server[Any]) -> None:
    """Serve one client over this process's stdin and stdout until it hangs up."""
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def http_app(server: Server[Any], host: str, token: str | None) -> ASGIApp:
    """The streamable HTTP app at /mcp; with `token`, every request must carry it."""
    from capture.store import TokenGuard

    loopback = host in ("127.0.0.1", "localhost", "::1")
    security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app: ASGIApp = server.streamable_http_app(
        host=host, transport_security=None if loopback else security
    )
    return TokenGuard(app, token) if token else app


async def serve_http(server: Server[Any], host: str, port: int, token: str | None) -> None:
    """Serve streamable HTTP on host:port until interrupted."""
    config = uvicorn.Config(
        http_app(server, host, token), host=host, port=port, log_level="warning", lifespan="on"
    )
    await uvicorn.Server(config).serve()

"""The OpenAPI 3.1 description of the embedded store, written by hand to match `_app.py`.

Every operation is listed under both mounts (`/api/v1` and `/v1`). The document is served at
`/openapi.json`; schemathesis checks the server against it both ways, so it states every
status an operation can answer and every rule the server enforces on input (the lengths of
thread ids and keys, their characters, the ranges of query parameters): a request the
document allows is never refused.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["openapi_document"]

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}
_RFC3339 = {"type": "string", "format": "date-time"}
_SESSION = {
    "type": "object",
    "required": ["session_id", "thread_id", "key_count", "keys", "updated_at", "task_ids"],
    "properties": {
        "session_id": {"type": "string", "description": "the same as thread_id"},
        "thread_id": {"type": "string"},
        "key_count": {"type": "integer", "minimum": 1},
        "keys": {"type": "array", "items": {"type": "string"}},
        "updated_at": {"anyOf": [_RFC3339, {"type": "null"}]},
        "task_ids": {"type": "array", "items": {"type": "string"}},
    },
}
# What `capture.session.id_problem` refuses in a thread id or a key: control characters
# (Unicode category Cc). It also refuses lone surrogates, which no UTF-8 path can carry and
# which an ECMA-262 pattern cannot name (JSON Schema's pattern dialect).
_ID_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"


def _id(limit: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": limit, "pattern": _ID_PATTERN}


def _set_body(key_length: int) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["key", "value"],
        "properties": {
            "key": _id(key_length),
            "value": {"description": "any JSON value (a lone surrogate is kept as its escape)"},
            "expiry": {"anyOf": [_RFC3339, {"type": "null"}]},
        },
    }


_HISTORY = {
    "type": "object",
    "required": ["history"],
    "properties": {
        "history": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["value", "set_at", "expiry"],
                "properties": {
                    "value": {},
                    "set_at": _RFC3339,
                    "expiry": {"anyOf": [_RFC3339, {"type": "null"}]},
                },
            },
        }
    },
}


def _param(name: str, where: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {
        400: "bad JSON, key, thread id, expiry or query parameter",
        401: "missing or wrong token",
        408: "request body not received in time",
        413: "request body over the limit",
        503: "the storage backend failed",
    }
    return {str(s): _json(reasons[s], {"$ref": "#/components/schemas/Error"}) for s in statuses}


def _op(summary: str, params: list[Any], ok: dict[str, dict[str, Any]], *errs: int) -> Any:
    return {
        "summary": summary,
        "parameters": params,
        "responses": {**ok, **_errors(400, 401, 503, *errs)},
    }


_NO_CONTENT = {"204": {"description": "done; empty body"}}


def _paths(thread_id_length: int, key_length: int) -> dict[str, dict[str, Any]]:
    """The operations of one mount."""
    thread = _param("thread_id", "path", _id(thread_id_length), True)
    key = _param("key", "path", _id(key_length), True)
    return {
        "/sessions": {
            "get": _op(
                "List sessions with live values, most recently written first",
                [
                    _param("thread_id", "query", {"type": "string"}, False),
                    _param(
                        "limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, False
                    ),
                    _param(
                        "offset",
                        "query",
                        {"type": "integer", "minimum": 0, "maximum": 10**9},
                        False,
                    ),
                ],
                {"200": _json("sessions", {"type": "array", "items": _SESSION})},
            )
        },
        "/sessions/{thread_id}": {
            "delete": _op("Clear a session (values and history)", [thread], _NO_CONTENT)
        },
        "/sessions/{thread_id}/values": {
            "get": _op(
                "All live values of a session",
                [thread],
                {
                    "200": _json(
                        "values by key",
                        {
                            "type": "object",
                            "required": ["values"],
                            "properties": {"values": {"type": "object"}},
                        },
                    )
                },
            ),
            "post": {
                **_op("Set a value (replaces value and expiry)", [thread], _NO_CONTENT, 408, 413),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _set_body(key_length)}},
                },
            },
        },
        "/sessions/{thread_id}/values/{key}": {
            "get": _op(
                "One value; null when missing or expired",
                [thread, key],
                {
                    "200": _json(
                        "the value",
                        {"type": "object", "required": ["value"], "properties": {"value": {}}},
                    )
                },
            ),
            "delete": _op("Delete a value (also when absent)", [thread, key], _NO_CONTENT),
        },
        "/sessions/{thread_id}/history": {
            "get": _op(
                "Past versions of a __user_part_* key, newest first",
                [
                    thread,
                    _param("key", "query", _id(key_length), True),
                    _param(
                        "limit", "query", {"type": "integer", "minimum": 1, "maximum": 10000}, False
                    ),
                ],
                {"200": _json("versions", _HISTORY)},
            )
        },
    }


def openapi_document(
    *, secured: bool, thread_id_length: int = 256, key_length: int = 512
) -> dict[str, Any]:
    """The document; `secured` adds the two accepted credentials as security schemes, and
    the lengths are the server's limits (`store.max_thread_id_length`, `max_key_length`)."""
    paths: dict[str, Any] = {
        f"{base}{path}": copy.deepcopy(item)
        for base in ("/api/v1", "/v1")
        for path, item in _paths(thread_id_length, key_length).items()
    }
    paths["/healthz"] = {
        "get": {
            "summary": "Liveness",
            "security": [],
            "responses": {
                "200": _json(
                    "alive; `pid` is the answering server process (one of several workers)",
                    {
                        "type": "object",
                        "properties": {"status": {"const": "ok"}, "pid": {"type": "integer"}},
                        "required": ["status", "pid"],
                    },
                )
            },
        }
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "capture session store (Distri Session Store API)", "version": "1"},
        "paths": paths,
        "components": {"schemas": {"Error": _ERROR}},
    }
    if secured:
        document["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
        }
        document["security"] = [{"bearer": []}, {"apiKey": []}]
    else:
        for item in paths.values():
            for operation in item.values():
                operation["responses"].pop("401", None)
    return document

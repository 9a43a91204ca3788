"""The action engine's step table (capture.actions): each kind declared once builds a class
whose name, module attribute, kind key and shorthand agree (pickling and `$defs` rely on the
name), and a kind the engine does not handle fails instead of passing."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path
from typing import Any, cast, get_args

import pytest
from playwright.async_api import Page

from capture.actions import (
    STEP_KINDS,
    STEP_TYPES,
    StepBase,
    StepContext,
    StepFailed,
    StepKind,
    Target,
    Vars,
    describe,
    perform,
)
from capture.actions import _step as step_module
from capture.errors import TaskError


def test_every_kind_is_a_class_under_its_own_name() -> None:
    assert list(STEP_TYPES) == list(STEP_KINDS)
    for kind, cls in STEP_TYPES.items():
        assert getattr(step_module, cls.__name__) is cls, kind
        assert cls.__name__ in step_module.__all__, kind
        assert cls.kind == kind
        assert list(cls.model_fields) == ["timeout", kind]
        if cls.shorthand is not None:
            args = cls.model_fields[kind].annotation
            assert cls.shorthand in args.model_fields, kind


def test_the_kind_type_names_every_declared_kind() -> None:
    """`StepKind` is what mypy checks the dispatch against: it must list exactly the kinds."""
    assert set(get_args(StepKind)) == set(STEP_KINDS)


def test_a_step_pickles_by_its_class_name() -> None:
    step = STEP_TYPES["wait_for"].model_validate({"wait_for": {"url": "/done"}})
    assert pickle.loads(pickle.dumps(step)) == step


class _Unhandled(StepBase):
    """A kind the engine was never taught: what a forgotten `case` would meet."""

    kind = cast(Any, "unhandled")
    unhandled: Target


def _unhandled() -> StepBase:
    return _Unhandled.model_validate({"unhandled": {"css": "#x"}})


def test_an_unhandled_kind_fails_the_step_instead_of_passing() -> None:
    ctx = StepContext("", Path.cwd(), Vars())
    # The dispatch refuses before it touches the page, so no browser is needed to see it.
    with pytest.raises(StepFailed, match="step kind 'unhandled' has no action"):
        asyncio.run(perform(cast(Page, object()), _unhandled(), ctx, 1.0))


def test_an_unhandled_kind_has_no_description() -> None:
    with pytest.raises(TaskError, match="step kind 'unhandled' has no action"):
        describe(_unhandled(), Vars())

"""The step-kind table in capture.tasks._schema: each kind declared once builds a class whose
name, module attribute, kind key and shorthand agree (pickling and `$defs` rely on the name)."""

from __future__ import annotations

import pickle

from capture.tasks import STEP_KINDS, _schema


def test_every_kind_is_a_class_under_its_own_name() -> None:
    assert list(_schema.STEP_TYPES) == list(STEP_KINDS)
    for kind, cls in _schema.STEP_TYPES.items():
        assert getattr(_schema, cls.__name__) is cls, kind
        assert cls.__name__ in _schema.__all__, kind
        assert cls.kind == kind
        assert list(cls.model_fields) == ["timeout", kind]
        if cls.shorthand is not None:
            args = cls.model_fields[kind].annotation
            assert cls.shorthand in args.model_fields, kind


def test_a_step_pickles_by_its_class_name() -> None:
    step = _schema.STEP_TYPES["wait_for"].model_validate({"wait_for": {"url": "/done"}})
    assert pickle.loads(pickle.dumps(step)) == step

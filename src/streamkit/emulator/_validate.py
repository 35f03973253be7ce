"""Request bodies checked against the reference's parameter types: 400 naming the field.

A checker is a function ``(value, path) -> value`` that raises :class:`ApiError` (400,
``invalid_request_error``, ``param`` set to the field's path such as
``thread.messages[0].content``) when the value has the wrong type; :func:`obj` checks an
object's fields and reports a missing required one as ``Missing required parameter``.
Fields the emulator does not know are accepted and ignored, so newer clients work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from ._store import ApiError

__all__ = [
    "ASSISTANT_CREATE",
    "ASSISTANT_UPDATE",
    "CHATKIT_SESSION_CREATE",
    "MESSAGE_CREATE",
    "METADATA_UPDATE",
    "RUN_CREATE",
    "SUBMIT_TOOL_OUTPUTS",
    "THREAD_AND_RUN_CREATE",
    "THREAD_CREATE",
    "Check",
    "parse_body",
]

Check = Callable[[Any, str], Any]


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _wrong(path: str, expected: str, value: object) -> ApiError:
    return ApiError(
        400,
        f"Invalid type for '{path}': expected {expected}, but got {_kind(value)} instead.",
        param=path,
        code="invalid_type",
    )


def _simple(expected: str, test: Callable[[Any], bool]) -> Check:
    def check(value: Any, path: str) -> Any:
        if not test(value):
            raise _wrong(path, expected, value)
        return value

    check.expected = expected  # type: ignore[attr-defined]
    return check


string = _simple("a string", lambda v: isinstance(v, str))
boolean = _simple("a boolean", lambda v: isinstance(v, bool))
integer = _simple("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
number = _simple("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool))
any_object = _simple("an object", lambda v: isinstance(v, dict))


def nullable(check: Check) -> Check:
    def checked(value: Any, path: str) -> Any:
        return None if value is None else check(value, path)

    checked.expected = getattr(check, "expected", "a value") + " or null"  # type: ignore[attr-defined]
    return checked


def enum(*values: str) -> Check:
    expected = "one of " + ", ".join(repr(v) for v in values)

    def check(value: Any, path: str) -> Any:
        if value not in values:
            raise ApiError(
                400,
                f"Invalid value for '{path}': expected {expected}, but got {value!r}.",
                param=path,
                code="invalid_value",
            )
        return value

    check.expected = expected  # type: ignore[attr-defined]
    return check


def array(item: Check) -> Check:
    def check(value: Any, path: str) -> Any:
        if not isinstance(value, list):
            raise _wrong(path, "an array", value)
        for i, element in enumerate(value):
            item(element, f"{path}[{i}]")
        return value

    check.expected = "an array"  # type: ignore[attr-defined]
    return check


def either(*checks: Check) -> Check:
    expected = " or ".join(getattr(c, "expected", "a value") for c in checks)

    def check(value: Any, path: str) -> Any:
        for candidate in checks:
            try:
                return candidate(value, path)
            except ApiError as error:
                if error.param != path:  # the right type, a field inside is wrong
                    raise
        raise _wrong(path, expected, value)

    check.expected = expected  # type: ignore[attr-defined]
    return check


def obj(fields: Mapping[str, tuple[Check, bool]]) -> Check:
    """An object whose ``fields`` map a name to (checker, required)."""

    def check(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _wrong(path or "body", "an object", value)
        for name, (field_check, required) in fields.items():
            where = f"{path}.{name}" if path else name
            if name not in value:
                if required:
                    raise ApiError(
                        400,
                        f"Missing required parameter: '{where}'.",
                        param=where,
                        code="missing_required_parameter",
                    )
                continue
            field_check(value[name], where)
        return value

    check.expected = "an object"  # type: ignore[attr-defined]
    return check


def _metadata(value: Any, path: str) -> Any:
    if not isinstance(value, dict):
        raise _wrong(path, "an object", value)
    for key, item in value.items():
        if not isinstance(item, str):
            raise _wrong(f"{path}.{key}", "a string", item)
    return value


METADATA = nullable(_metadata)
_FUNCTION = obj(
    {
        "name": (string, True),
        "description": (string, False),
        "parameters": (any_object, False),
        "strict": (nullable(boolean), False),
    }
)


def _tool(value: Any, path: str) -> Any:
    obj({"type": (enum("code_interpreter", "file_search", "function"), True)})(value, path)
    if value["type"] == "function":
        obj({"function": (_FUNCTION, True)})(value, path)
    return value


TOOLS = array(_tool)
_TEXT_PART = obj({"type": (string, True)})


def _content_part(value: Any, path: str) -> Any:
    _TEXT_PART(value, path)
    kind = value["type"]
    if kind == "text":
        obj({"text": (string, True)})(value, path)
    elif kind == "image_file":
        obj({"image_file": (obj({"file_id": (string, True)}), True)})(value, path)
    elif kind == "image_url":
        obj({"image_url": (obj({"url": (string, True)}), True)})(value, path)
    else:
        enum("text", "image_file", "image_url")(kind, f"{path}.type")
    return value


MESSAGE_CREATE = obj(
    {
        "role": (enum("user", "assistant"), True),
        "content": (either(string, array(_content_part)), True),
        "attachments": (nullable(array(any_object)), False),
        "metadata": (METADATA, False),
    }
)
THREAD_CREATE = obj(
    {
        "messages": (array(MESSAGE_CREATE), False),
        "metadata": (METADATA, False),
        "tool_resources": (nullable(any_object), False),
    }
)
METADATA_UPDATE = obj({"metadata": (METADATA, False)})

_ASSISTANT_FIELDS: dict[str, tuple[Check, bool]] = {
    "model": (string, True),
    "name": (nullable(string), False),
    "description": (nullable(string), False),
    "instructions": (nullable(string), False),
    "tools": (TOOLS, False),
    "tool_resources": (nullable(any_object), False),
    "metadata": (METADATA, False),
    "temperature": (nullable(number), False),
    "top_p": (nullable(number), False),
    "response_format": (nullable(either(string, any_object)), False),
    "reasoning_effort": (nullable(string), False),
}
ASSISTANT_CREATE = obj(_ASSISTANT_FIELDS)
ASSISTANT_UPDATE = obj({name: (check, False) for name, (check, _) in _ASSISTANT_FIELDS.items()})

_RUN_FIELDS: dict[str, tuple[Check, bool]] = {
    "assistant_id": (string, True),
    "model": (nullable(string), False),
    "instructions": (nullable(string), False),
    "tools": (nullable(TOOLS), False),
    "metadata": (METADATA, False),
    "temperature": (nullable(number), False),
    "top_p": (nullable(number), False),
    "stream": (nullable(boolean), False),
    "max_prompt_tokens": (nullable(integer), False),
    "max_completion_tokens": (nullable(integer), False),
    "truncation_strategy": (nullable(any_object), False),
    "tool_choice": (nullable(either(string, any_object)), False),
    "parallel_tool_calls": (boolean, False),
    "response_format": (nullable(either(string, any_object)), False),
    "reasoning_effort": (nullable(string), False),
}
RUN_CREATE = obj(
    {
        **_RUN_FIELDS,
        "additional_instructions": (nullable(string), False),
        "additional_messages": (nullable(array(MESSAGE_CREATE)), False),
    }
)
THREAD_AND_RUN_CREATE = obj(
    {
        **_RUN_FIELDS,
        "thread": (THREAD_CREATE, False),
        "tool_resources": (nullable(any_object), False),
    }
)
SUBMIT_TOOL_OUTPUTS = obj(
    {
        "tool_outputs": (
            array(obj({"tool_call_id": (string, True), "output": (string, True)})),
            True,
        ),
        "stream": (nullable(boolean), False),
    }
)


def _positive(value: Any, path: str) -> Any:
    integer(value, path)
    if value < 1:
        raise ApiError(
            400,
            f"Invalid '{path}': {value} must be at least 1.",
            param=path,
            code="integer_below_min_value",
        )
    return value


CHATKIT_SESSION_CREATE = obj(
    {
        "user": (string, True),
        "workflow": (
            obj(
                {
                    "id": (string, True),
                    "state_variables": (any_object, False),
                    "tracing": (obj({"enabled": (boolean, False)}), False),
                    "version": (string, False),
                }
            ),
            True,
        ),
        "chatkit_configuration": (
            obj(
                {
                    "automatic_thread_titling": (obj({"enabled": (boolean, False)}), False),
                    "file_upload": (
                        obj(
                            {
                                "enabled": (boolean, False),
                                "max_file_size": (_positive, False),
                                "max_files": (_positive, False),
                            }
                        ),
                        False,
                    ),
                    "history": (
                        obj({"enabled": (boolean, False), "recent_threads": (_positive, False)}),
                        False,
                    ),
                }
            ),
            False,
        ),
        "expires_after": (
            obj({"anchor": (enum("created_at"), True), "seconds": (_positive, True)}),
            False,
        ),
        "rate_limits": (obj({"max_requests_per_1_minute": (_positive, False)}), False),
    }
)


def parse_body(raw: bytes, check: Check) -> dict[str, Any]:
    """The request's JSON object, checked; a 400 for anything else."""
    if not raw.strip():
        value: Any = {}
    else:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise ApiError(
                400,
                "We could not parse the JSON body of your request: "
                f"{error}. The body must be a JSON object.",
                code="invalid_json",
            ) from None
    if not isinstance(value, dict):
        raise ApiError(
            400,
            f"The request body must be a JSON object, not {_kind(value)}.",
            code="invalid_json",
        )
    result: dict[str, Any] = check(value, "")
    return result

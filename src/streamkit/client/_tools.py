"""The tool loop's calls: run the functions a run asks for, and make their outputs.

:func:`call_tools` takes the run's function calls and a name -> function table and calls
them all concurrently (anyio: one task per call, on asyncio or trio). A call's arguments
are parsed as JSON and must be an object; the function gets them as keyword arguments.
An ``async def`` function is awaited; a plain one runs in a worker thread (abandoned, not
waited for, when it times out). ``timeout`` bounds each call. The result becomes the
output text: a ``str`` as it is, anything else as JSON.

Each call ends as an output or as a :class:`~._errors.ToolCallError`: arguments that are
not a JSON object, an unknown tool name, a function that raised (the exception is the
error's ``__cause__``) or timed out, or a result that cannot be encoded as JSON.
:func:`error_output` is what is sent to the model for such an error.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

import anyio
import anyio.to_thread
import orjson

from ..models import RequiredActionFunctionToolCall
from ._errors import ToolCallError

__all__ = ["OnToolError", "ToolFunction", "call_tools", "error_output"]

ToolFunction: TypeAlias = Callable[..., Any]
OnToolError: TypeAlias = Literal["output", "raise"]
Result = str | ToolCallError


def error_output(error: ToolCallError) -> str:
    """The output sent to the model for a failed call: ``{"error": ...}`` as JSON."""
    return orjson.dumps({"error": str(error), "kind": error.kind}).decode()


def _is_async(function: ToolFunction) -> bool:
    while isinstance(function, functools.partial):
        function = function.func
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - a callable object's method
    )


def _arguments(call: RequiredActionFunctionToolCall) -> dict[str, Any] | ToolCallError:
    raw = call.function.arguments if call.function is not None else None
    try:
        parsed = orjson.loads(raw or "{}")
    except orjson.JSONDecodeError as exc:
        return ToolCallError(
            f"arguments are not JSON ({exc}): {raw!r}", kind="invalid_arguments", tool_call=call
        )
    if not isinstance(parsed, dict):
        return ToolCallError(
            f"arguments are not a JSON object: {raw!r}", kind="invalid_arguments", tool_call=call
        )
    return parsed


def _encode(result: Any, call: RequiredActionFunctionToolCall) -> Result:
    if isinstance(result, str):
        return result
    try:
        return orjson.dumps(result).decode()
    except TypeError as exc:
        error = ToolCallError(
            f"returned a {type(result).__name__}, which is not JSON ({exc})",
            kind="raised",
            tool_call=call,
        )
        error.__cause__ = exc
        return error


async def _call_one(
    call: RequiredActionFunctionToolCall,
    functions: Mapping[str, ToolFunction],
    timeout: float | None,
) -> Result:
    name = call.function.name if call.function is not None else None
    function = functions.get(name) if name is not None else None
    if function is None:
        known = ", ".join(sorted(functions)) or "none"
        return ToolCallError(
            f"no function named {name!r} (known: {known})", kind="unknown_tool", tool_call=call
        )
    arguments = _arguments(call)
    if isinstance(arguments, ToolCallError):
        return arguments
    result: Any = None
    try:
        with anyio.move_on_after(timeout) as scope:
            if _is_async(function):
                result = await function(**arguments)
            else:
                bound = functools.partial(function, **arguments)
                result = await anyio.to_thread.run_sync(bound, abandon_on_cancel=True)
        if scope.cancelled_caught:
            return ToolCallError(f"timed out after {timeout} s", kind="timeout", tool_call=call)
    except Exception as exc:
        error = ToolCallError(f"raised {type(exc).__name__}: {exc}", kind="raised", tool_call=call)
        error.__cause__ = exc
        return error
    return _encode(result, call)


async def call_tools(
    calls: Sequence[RequiredActionFunctionToolCall],
    functions: Mapping[str, ToolFunction],
    timeout: float | None,
) -> list[Result]:
    """Each call's output or error, in the calls' order (all called concurrently)."""
    results: list[Result] = [""] * len(calls)

    async def one(index: int, call: RequiredActionFunctionToolCall) -> None:
        results[index] = await _call_one(call, functions, timeout)

    async with anyio.create_task_group() as group:
        for index, call in enumerate(calls):
            group.start_soon(one, index, call)
    return results

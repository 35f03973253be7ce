"""The client's own errors; an HTTP error answer is a :class:`streamkit.ResponseError`.

- :class:`APIConnectionError`: the request could not be sent or its answer could not be
  read (connection refused, reset, closed mid-stream), after the retries allowed;
  :class:`APITimeoutError` is the same for a timeout (it is also a ``TimeoutError``,
  so a stream's ``on_timeout`` hook fires for it). The httpx error is the ``__cause__``.
- :class:`ToolCallError`: one tool call of the tool loop failed (arguments that are not
  JSON, an unknown tool, a tool that raised or timed out); :class:`ToolLoopError`: the
  loop gave up (too many rounds).

Names follow openai-python's where it has the same error, so ``except`` clauses read the
same after migrating.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

from .._errors import StreamkitError

if TYPE_CHECKING:
    from ..models import RequiredActionFunctionToolCall

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "ToolCallError",
    "ToolErrorKind",
    "ToolLoopError",
]

ToolErrorKind: TypeAlias = Literal["invalid_arguments", "unknown_tool", "raised", "timeout"]


class APIConnectionError(StreamkitError):
    """The request failed below HTTP: ``method`` and ``url`` say which (no query string)."""

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None):
        where = f"{method} {url}: " if method and url else ""
        super().__init__(where + message)
        self.method = method
        self.url = url


class APITimeoutError(APIConnectionError, TimeoutError):
    """The request, or a read of its streamed answer, timed out."""


class ToolCallError(StreamkitError):
    """A tool call the tool loop could not turn into an output.

    ``kind`` is ``"invalid_arguments"`` (not a JSON object), ``"unknown_tool"``,
    ``"raised"`` (the exception is the ``__cause__``) or ``"timeout"``; ``tool_call`` is
    the call as the run asked for it (``.id``, ``.function.name``,
    ``.function.arguments``); ``output`` is the error output sent to the model instead
    (``on_tool_error="output"``), else None.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: ToolErrorKind,
        tool_call: RequiredActionFunctionToolCall,
    ) -> None:
        function = tool_call.function
        name = function.name if function is not None else None
        super().__init__(f"tool call {tool_call.id} ({name}): {message}")
        self.kind: ToolErrorKind = kind
        self.tool_call = tool_call
        self.name = name
        self.output: str | None = None


class ToolLoopError(StreamkitError):
    """The tool loop stopped: the run still required action after ``max_rounds`` rounds
    (the run was cancelled). ``run_id`` and ``rounds`` say which and how many."""

    def __init__(self, message: str, *, run_id: str | None, rounds: int) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.rounds = rounds

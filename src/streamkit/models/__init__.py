"""Typed models of every object in the Assistants API reference (ChatKit in ``.chatkit``).

Every model is an attrs class with slots, decoded by ``Model.from_dict`` and encoded back,
exactly, by ``to_dict()``: unknown fields are kept (``extra``), fields absent from the
input stay absent, and a discriminated value of an unknown type becomes the union's
``Unknown...`` variant holding the raw object. Attribute names mirror the API's JSON
field names (``message.content[0].text.value``).
"""

from .._model import Model, ShapeError, UnknownVariant
from ._assistants import *  # noqa: F403
from ._assistants import __all__ as _assistants_all
from ._common import IncompleteDetails, LastError, Metadata, Usage
from ._errors import ErrorObject
from ._messages import *  # noqa: F403
from ._messages import __all__ as _messages_all
from ._runs import *  # noqa: F403
from ._runs import __all__ as _runs_all
from ._steps import *  # noqa: F403
from ._steps import __all__ as _steps_all
from ._threads import *  # noqa: F403
from ._threads import __all__ as _threads_all
from ._tools import *  # noqa: F403
from ._tools import __all__ as _tools_all
from .chatkit import *  # noqa: F403
from .chatkit import __all__ as _chatkit_all

__all__ = [
    "ErrorObject",
    "IncompleteDetails",
    "LastError",
    "Metadata",
    "Model",
    "ShapeError",
    "UnknownVariant",
    "Usage",
    *_assistants_all,
    *_chatkit_all,
    *_messages_all,
    *_runs_all,
    *_steps_all,
    *_threads_all,
    *_tools_all,
]

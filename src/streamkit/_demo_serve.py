"""``streamkit demo --serve``: a chat page in the browser, relayed from the emulator.

How it works. :func:`create_demo_app` is a Starlette app in front of an emulator (any
base URL and key: the command serves :mod:`streamkit.emulator` in a thread on a free
127.0.0.1 port). ``POST /chat`` starts a run with the user's text through
:class:`streamkit.AsyncClient`, with the tool loop (``run_tools``) answering the
assistant's function calls with the local :func:`get_current_weather`, and hands the
stream to a :class:`~streamkit.relay.MemoryHub` under a new relay run id, which it
answers. A message sent after a run (``"after": run_id``) continues that run's thread,
so the page is a conversation; ``GET /chat/{run_id}`` gives the turns that lead to a run
(the user's texts), so a reloaded page can show them again. The relay's routes are under
``/relay`` (``GET /relay/runs/{id}/events``, ``POST /relay/runs/{id}/stop``, which
cancels the upstream run).

The page (``_demo_static/``: ``index.html``, ``demo.css``, ``demo.js``; no build step,
no CDN) folds the events with ``streamkit-relay.js``, keeps the run id in the URL
(``#run=<id>``) and the state with its last event id in ``sessionStorage``, so a reload
resumes after the last event it showed and a second tab on the same URL shows the same
run. :func:`serve_demo` is the command: the emulator, this app on uvicorn, until Ctrl+C,
which stops the runs still going (cancelled upstream) before the server closes.
"""

from __future__ import annotations

import contextlib
import socket
import uuid
import webbrowser
from collections import OrderedDict
from collections.abc import AsyncIterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import anyio
import attrs
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from .client import AsyncClient
from .relay import Hub, MemoryHub, js_client_path, relay_routes

__all__ = ["DEMO_TOOLS", "create_demo_app", "get_current_weather", "serve_demo"]

#: The assistant's tools: the weather function (answered here), code interpreter and file
#: search (played by the emulator's scripts).
DEMO_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_current_weather",
            "description": "The current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}, "unit": {"type": "string"}},
                "required": ["location"],
            },
        },
    },
    {"type": "code_interpreter"},
    {"type": "file_search"},
]
_CONDITIONS = {
    "Paris": (18, "light rain"),
    "Rome": (24, "sunny"),
    "Tokyo": (21, "cloudy"),
    "Lima": (19, "overcast"),
    "Oslo": (7, "windy"),
    "Cairo": (31, "clear and hot"),
}
#: The longest text a message may have (characters).
MAX_TEXT = 4000
#: How many turns the app remembers (the oldest are forgotten first).
MAX_TURNS = 1000
_STATIC = ("index.html", "demo.css", "demo.js")
_STOP_TIMEOUT = 3.0  # seconds a stop waits for the upstream run to end, at Ctrl+C


def get_current_weather(location: str, unit: str = "celsius") -> str:
    """The demo's function: canned weather, as a real one would fetch it."""
    temperature, conditions = _CONDITIONS.get(location.split(",")[0].strip(), (20, "clear"))
    if unit.lower().startswith("f"):
        return f"{round(temperature * 9 / 5 + 32)} °F, {conditions}"
    return f"{temperature} °C, {conditions}"


def _static(name: str) -> Path:
    return Path(str(files("streamkit") / "_demo_static" / name))


@attrs.define
class _Turn:
    text: str
    previous: str | None
    stream: Any  # the AsyncRunStream: its thread id, once known


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)


def create_demo_app(
    base_url: str,
    api_key: str,
    *,
    tokens_per_second: float | None = None,
    hub: Hub | None = None,
    model: str = "gpt-4o",
) -> Starlette:
    """The demo chat app in front of the Assistants API at ``base_url`` (the emulator).

    ``tokens_per_second`` paces the emulator's token deltas (its
    ``X-Emulator-Tokens-Per-Second`` header, on every request); ``hub`` is where runs
    are relayed (any :class:`~streamkit.relay.Hub`; a new :class:`MemoryHub` by
    default), also ``app.state.hub``. Routes: ``GET /`` (the page), ``GET /static/...``,
    ``POST /chat`` (``{"text", "after"?}`` → ``{"run_id"}``; ``after`` continues that
    run's thread), ``GET /chat/{run_id}`` (``{"turns": [{"run_id", "text"}, ...]}``,
    oldest first) and the relay under ``/relay``. ``await app.state.stop_runs()`` stops
    every run still going (their viewers get their ``end``), before a shutdown.
    """
    relay_hub = hub if hub is not None else MemoryHub()
    turns: OrderedDict[str, _Turn] = OrderedDict()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        headers = {}
        if tokens_per_second is not None:  # every request: the tool loop's too
            headers["X-Emulator-Tokens-Per-Second"] = str(tokens_per_second)
        client = AsyncClient(base_url=base_url, api_key=api_key, default_headers=headers)
        async with client, relay_hub:
            app.state.client = client
            app.state.assistant = await client.assistants.create(
                model=model,
                name="streamkit demo",
                instructions="You are the streamkit demo's assistant.",
                tools=DEMO_TOOLS,
            )
            yield

    async def page(request: Request) -> Response:
        return FileResponse(_static("index.html"), headers={"cache-control": "no-cache"})

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "streamkit-relay.js":
            path = js_client_path()
        elif name in _STATIC:
            path = _static(name)
        else:
            return _error(404, f"no static file {name!r}")
        return FileResponse(path, headers={"cache-control": "no-cache"})

    async def chat(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, 'POST /chat: the body must be JSON: {"text": "..."}')
        if not isinstance(body, dict):
            return _error(400, f"POST /chat: the body must be a JSON object, got {body!r}")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return _error(400, f"POST /chat: 'text' must be a non-empty string, got {text!r}")
        if len(text) > MAX_TEXT:
            return _error(400, f"POST /chat: 'text' is {len(text)} characters (at most {MAX_TEXT})")
        after = body.get("after")
        if after is not None and (not isinstance(after, str) or after not in turns):
            return _error(404, f"POST /chat: no run {after!r} to continue ('after')")
        if after is not None and relay_hub.relaying(after):
            return _error(409, f"POST /chat: run {after!r} is still going: stop it or wait")
        client: AsyncClient = request.app.state.client
        assistant_id = request.app.state.assistant.id
        message = {"role": "user", "content": text}
        thread_id = turns[after].stream.thread_id if after is not None else None
        if thread_id is not None:
            stream = client.threads.runs.stream(
                thread_id=thread_id,
                assistant_id=assistant_id,
                additional_messages=[message],
            )
        else:  # a first message, or the previous run never got a thread
            stream = client.threads.create_and_run_stream(
                assistant_id=assistant_id,
                thread={"messages": [message]},
            )
        stream = stream.run_tools({"get_current_weather": get_current_weather}, timeout=10)
        run_id = uuid.uuid4().hex[:16]
        turns[run_id] = _Turn(text, after, stream)
        while len(turns) > MAX_TURNS:
            turns.popitem(last=False)
        await relay_hub.start(run_id, stream, client=client)
        return JSONResponse({"run_id": run_id})

    async def history(request: Request) -> Response:
        run_id: str | None = request.path_params["run_id"]
        if run_id not in turns:
            return _error(404, f"no chat run {run_id!r} (the demo forgets on restart)")
        chain: list[dict[str, str]] = []
        while run_id is not None and run_id in turns and len(chain) < MAX_TURNS:
            turn = turns[run_id]
            chain.append({"run_id": run_id, "text": turn.text})
            run_id = turn.previous
        return JSONResponse({"turns": chain[::-1]})

    app = Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/static/{name}", static, methods=["GET"]),
            Route("/chat", chat, methods=["POST"]),
            Route("/chat/{run_id}", history, methods=["GET"]),
            Mount("/relay", routes=relay_routes(relay_hub)),
        ],
        lifespan=lifespan,
    )
    app.state.hub = relay_hub
    app.state.stop_runs = relay_hub.stop_all
    return app


def serve_demo(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tokens_per_second: float | None = None,
    open_browser: bool = True,
) -> int:
    """Serve the emulator and the demo chat page until Ctrl+C (or SIGTERM)."""
    import uvicorn

    from .emulator import create_app, serve_in_thread

    key = "sk-demo"
    with serve_in_thread(create_app(api_key=key)) as emulator_url:
        hub = MemoryHub(stop_timeout=_STOP_TIMEOUT)
        app = create_demo_app(emulator_url, key, tokens_per_second=tokens_per_second, hub=hub)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)  # connections wait in the backlog until uvicorn serves them
            bound = sock.getsockname()[1]
            shown = f"[{host}]" if family == socket.AF_INET6 else host
            url = f"http://{shown}:{bound}/"
            print(f"streamkit demo chat: {url}", flush=True)
            print("press Ctrl+C to stop", flush=True)
            if open_browser:
                webbrowser.open(url)

            class Server(uvicorn.Server):
                async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
                    # stop the runs first: their viewers' streams end, so the server's
                    # connections close by themselves instead of being cut
                    with anyio.move_on_after(_STOP_TIMEOUT + 1):
                        await app.state.stop_runs()
                    await super().shutdown(sockets)

            config = uvicorn.Config(
                app,
                log_level="warning",
                lifespan="on",
                access_log=False,
                timeout_graceful_shutdown=1,
            )
            with contextlib.suppress(KeyboardInterrupt):
                Server(config).run(sockets=[sock])
        finally:
            sock.close()
    return 0

"""The resident worker: a child process that owns the engine and runs one job at a time.

It talks to the server over a ``multiprocessing`` pipe with plain tuples:

- server -> worker: ``("job", key, GenerateRequest)``, ``("stop",)``
- worker -> server: ``("ready", engine, device, pid)``, ``("progress", key, fraction, message)``,
  ``("done", key, [paths])``, ``("error", key, message)``, ``("cancelled", key)``

Cancelling a running job sets a shared value to its key; the pipeline polls
it between candidates. The worker's ``Resident`` holds the models it loads
(a Stable Audio Open model at startup with ``--engine sao``, or at the first
request for one) and hands them to every job.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class WorkerConfig:
    engine: str = "embedded"
    model: str | None = None  # sao: hub id, folder or "debug"; None = the default model
    adapter: Path | None = None
    roots: tuple[Path, ...] = ()  # the project must still lie inside one when files are written


def device_for(engine: str) -> str:
    """Where the engine runs, for engines that hold no model."""
    return "cpu (synthesis and library playback need no GPU)"


def run(conn: Connection, config: WorkerConfig, cancel_key: Any) -> None:
    """Worker main loop (runs in the child process)."""
    # the server handles Ctrl-C and shuts the worker down itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from sfxcli.log import show_on_stderr

    show_on_stderr()
    from sfxcli.engines.choice import Resident
    from sfxcli.errors import CancelledError, SfxError
    from sfxcli.pipeline import generate

    resident = Resident()  # the models this worker keeps for its whole life
    try:
        if config.engine in ("auto", "library"):
            from sfxcli.errors import LibraryError
            from sfxcli.library.store import open_library

            try:
                open_library()  # index the built-in library once, before the first request
            except LibraryError:
                pass  # each request says why; auto requests fall back to synthesis
        device = device_for(config.engine)
        if config.engine == "sao":  # load the model once, before the first request
            from sfxcli.engines.sao.model import default_model

            loaded = resident.sao_model(config.model or default_model(), config.adapter)
            device = f"{loaded.device} ({loaded.dtype}, {loaded.source}, loaded in {loaded.load_seconds:.1f} s)"
    except SfxError as error:
        conn.send(("fatal", error.message + (f" ({error.hint})" if error.hint else "")))
        return
    conn.send(("ready", config.engine, device, os.getpid()))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "stop":
            return
        _, key, request = message

        def progress(text: str, fraction: float, key: int = key) -> None:
            conn.send(("progress", key, float(fraction), text))

        def cancelled(key: int = key) -> bool:
            return bool(cancel_key.value == key)

        try:
            result = generate(request, progress, cancelled=cancelled, resident=resident, roots=config.roots)
        except CancelledError:
            conn.send(("cancelled", key))
        except SfxError as error:
            conn.send(("error", key, error.message + (f" ({error.hint})" if error.hint else "")))
        except OSError as error:
            conn.send(("error", key, f"cannot use a file of this request: {error.strerror or error}"))
        except Exception as error:  # noqa: BLE001 - a bug must reach the DAW as an error reply, not kill the worker
            conn.send(("error", key, f"internal error: {type(error).__name__}: {error}"))
        else:
            conn.send(("done", key, [str(r.path.resolve()) for r in result.results]))

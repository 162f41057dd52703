"""OSC request handlers: each takes the server's state and a parsed request and
returns reply tuples. No sockets here; ``bridge.server`` sends what they return.

The token is checked by the server before a message reaches these handlers.
Every path a client names is checked by ``bridge.guard`` before the file
system is asked about it: the project folder must lie inside the server's
project roots, a library folder inside its library roots.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bridge.guard import checked_file, checked_folder
from bridge.protocol import MAX_IMITATION_BYTES, Reply, Request, RequestError
from sfxcli import __version__
from sfxcli.audio import AUDIO_SUFFIXES


@dataclass
class Job:
    key: int
    request_id: str
    reply_to: tuple[str, int]
    request: Any  # sfxcli.request.GenerateRequest


@dataclass
class BridgeState:
    project: Path
    engine: str
    roots: tuple[Path, ...] = ()  # folders a project may lie in (resolved); the project itself by default
    library_roots: tuple[Path, ...] = ()  # folders a client may name as its library
    max_queue: int = 32
    model: str | None = None  # the sao model the worker holds
    adapter: Path | None = None
    device: str = "starting"
    worker_state: str = "starting"
    worker_pid: int = 0
    queue: deque[Job] = field(default_factory=deque)
    running: Job | None = None
    cancel_requested: bool = False
    next_key: int = 1

    def in_flight(self, request_id: str) -> bool:
        return (self.running is not None and self.running.request_id == request_id) or any(
            job.request_id == request_id for job in self.queue
        )


def generate(state: BridgeState, request: Request, reply_to: tuple[str, int]) -> list[Reply]:
    from sfxcli.errors import SfxError
    from sfxcli.output import output_folder
    from sfxcli.request import from_osc

    rid = request.request_id
    if state.in_flight(rid):
        raise RequestError(rid, f"request id {rid!r} is already queued or running; use a new id")
    imitation, label = request.args
    # a whole file is capped by size; a section (a DAW item in a long recording) is bounded by its length instead
    path = checked_file(rid, imitation, "imitation", MAX_IMITATION_BYTES if "length" not in request.options else 2**62)
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise RequestError(rid, f"imitation must be wav, flac, ogg, mp3 or aiff: {path.name[:200]}")
    options = dict(request.options)
    if "project" in options:  # a DAW's own project folder: only inside the server's project roots
        options["project"] = str(checked_folder(rid, options["project"], "project folder", state.roots,
                                                "--project-root"))
    if "fx_like" in options:  # a reference file, read like the imitation: a regular file of audio, size-capped
        reference = checked_file(rid, options["fx_like"], "fx-like reference", MAX_IMITATION_BYTES)
        if reference.suffix.lower() not in AUDIO_SUFFIXES:
            raise RequestError(rid, f"fx-like reference must be wav, flac, ogg, mp3 or aiff: {reference.name[:200]}")
        options["fx_like"] = str(reference)
    if "library" in options:
        options["library"] = str(checked_folder(rid, options["library"], "library folder", state.library_roots,
                                                "--library-root"))
    try:
        job_request = from_osc(path, label, options, {"engine": state.engine, "model": state.model,
                                                      "adapter": state.adapter, "project": state.project})
        output_folder(job_request.project, job_request.subfolder, state.roots)
    except SfxError as error:
        raise RequestError(rid, error.message) from None
    if len(state.queue) >= state.max_queue:
        raise RequestError(rid, f"busy: {len(state.queue)} jobs are queued (limit {state.max_queue}); try again shortly")
    state.queue.append(Job(state.next_key, rid, reply_to, job_request))
    state.next_key += 1
    position = len(state.queue) + (1 if state.running else 0)
    return [("/sfx/accepted", [rid, position])]


def cancel(state: BridgeState, request: Request) -> list[Reply]:
    rid = request.request_id
    for job in list(state.queue):
        if job.request_id == rid:
            state.queue.remove(job)
            return [("/sfx/cancelled", [rid])]
    if state.running is not None and state.running.request_id == rid:
        state.cancel_requested = True
        return []  # the worker answers with "cancelled" (or "done" if it was already writing)
    raise RequestError(rid, f"no queued or running request with id {rid!r}")


def status(state: BridgeState, request: Request) -> list[Reply]:
    return [("/sfx/status", [request.request_id, state.engine, state.device, state.worker_state, len(state.queue),
                             state.running.request_id if state.running else "", str(state.project), __version__,
                             state.worker_pid])]


def ping(state: BridgeState, request: Request) -> list[Reply]:
    return [("/sfx/pong", [request.request_id, __version__])]


def project(state: BridgeState, request: Request) -> list[Reply]:
    """Change the default project folder: only to one inside the roots the server was started with."""
    state.project = checked_folder(request.request_id, request.args[0], "project folder", state.roots,
                                   "--project-root")
    return [("/sfx/project", [request.request_id, str(state.project)])]


def presets(state: BridgeState, request: Request) -> list[Reply]:
    from sfxcli.presets import recipe_names

    return [("/sfx/presets", [request.request_id, *recipe_names()])]


HANDLERS = {"cancel": cancel, "status": status, "ping": ping, "project": project, "presets": presets}


def handle(state: BridgeState, request: Request, reply_to: tuple[str, int]) -> list[Reply]:
    if request.verb == "generate":
        return generate(state, request, reply_to)
    return HANDLERS[request.verb](state, request)

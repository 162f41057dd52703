"""``sfx send``: one request to a running ``sfx serve``, for scripts and DAWs that cannot speak OSC.

A DAW script that must not block its host starts ``sfx send`` in the
background with ``--request FILE`` (the request as JSON, so no label or
path has to survive a shell's quoting) and ``--out FILE`` (the answer as
JSON, written atomically once there is one; ``--progress FILE`` is
rewritten as progress arrives), then polls for the answer. ``--cancel ID``
cancels a request from another process.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

import typer

FINALS = ("/sfx/done", "/sfx/error", "/sfx/cancelled")


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.part")
    temp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(temp, path)


def _from_file(path: Path) -> tuple[str | None, str, str, list[object]]:
    """(id, imitation, label, options as key, value...) from a request file."""
    from sfxcli.errors import UsageError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"cannot read the request file {path}: {getattr(error, 'strerror', None) or error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("imitation"), str) or not isinstance(data.get("label"), str):
        raise UsageError(f"{path}: a request file holds {{\"imitation\": PATH, \"label\": TEXT, \"options\": {{...}}}}")
    options = data.get("options", {})
    if not isinstance(options, dict) or not all(isinstance(v, (str, int, float, bool)) for v in options.values()):
        raise UsageError(f"{path}: options must map names to numbers or text")
    pairs: list[object] = []
    for key, value in options.items():
        pairs += [str(key), int(value) if isinstance(value, bool) else value]
    rid = data.get("id")
    return (str(rid) if rid is not None else None), data["imitation"], data["label"], pairs


def send(
    imitation: Optional[Path] = typer.Argument(None, help="The imitation file (sent as an absolute path)."),
    label: Optional[str] = typer.Argument(None, help='What it should become, for example "door creak".'),
    option: list[str] = typer.Option([], "--option", "-o", help="KEY=VALUE generate option (variations, seed, preset, format, ...)."),
    request_file: Optional[Path] = typer.Option(None, "--request", help="Read the request from this JSON file instead: {\"imitation\", \"label\", \"options\", \"id\"}."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write the answer here as JSON ({\"id\", \"files\"} or {\"id\", \"error\"}), atomically."),
    progress_file: Optional[Path] = typer.Option(None, "--progress", help="Keep this file holding the latest progress ({\"fraction\", \"message\"})."),
    request_id: Optional[str] = typer.Option(None, "--id", help="The request id (default: a new random one)."),
    cancel: Optional[str] = typer.Option(None, "--cancel", help="Cancel the request with this id instead of sending one."),
    host: str = typer.Option("127.0.0.1", "--host", help="Server address."),
    port: int = typer.Option(9001, "--port", help="Server UDP port."),
    token: Optional[str] = typer.Option(None, "--token", help="Shared secret, when the server wants one (default: $SFX_TOKEN or the token setting)."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds to wait for done or error."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report instead of paths."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
) -> None:
    """Send one generate request to `sfx serve`, wait, print the written paths."""
    from bridge.client import Answer, new_id, request
    from sfxcli.errors import BridgeError, SfxError, UsageError
    from sfxcli.settings import resolve

    secret = resolve("token", token).value
    extra: list[object] = ["token", secret] if secret else []
    if cancel is not None:
        answer = request(host, port, "/sfx/cancel", [cancel, *extra], timeout, ("/sfx/cancelled", "/sfx/error", "/sfx/done"))
        if answer.address == "/sfx/error":
            raise BridgeError(f"server answered: {answer.arguments[1]}", "")
        typer.echo(f"{cancel}: {answer.address.rsplit('/', 1)[-1]}")
        return

    pairs: list[object] = []
    if request_file is not None:
        if imitation is not None or label is not None:
            raise UsageError("give either IMITATION LABEL or --request FILE, not both")
        file_id, imitation_text, label, pairs = _from_file(request_file)
        request_id = request_id or file_id
        imitation = Path(imitation_text)
    if imitation is None or label is None:
        raise UsageError("sfx send needs IMITATION and LABEL (or --request FILE)")
    rid = request_id or new_id()
    arguments: list[object] = [rid, str(imitation.expanduser().resolve()), label, *pairs]
    for item in option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--option must look like KEY=VALUE, got {item!r}")
        arguments += [key, value]
    arguments += extra

    def show(answer: Answer) -> None:
        if answer.address == "/sfx/progress" and progress_file is not None:
            _write_atomically(progress_file, {"id": rid, "fraction": answer.arguments[1], "message": answer.arguments[2]})
        if quiet:
            return
        if answer.address == "/sfx/accepted":
            typer.echo(f"accepted, position {answer.arguments[1]} in the queue", err=True)
        elif answer.address == "/sfx/progress":
            typer.echo(str(answer.arguments[2]), err=True)

    try:
        answer = request(host, port, "/sfx/generate", arguments, timeout, FINALS, show)
        if answer.address != "/sfx/done":
            message = answer.arguments[1] if len(answer.arguments) > 1 else "cancelled"
            raise BridgeError(f"server answered: {message}", "")
    except SfxError as error:
        if out is not None:
            _write_atomically(out, {"id": rid, "error": error.message, "exit_code": error.exit_code})
        raise
    paths = [str(p) for p in answer.arguments[1:]]
    if out is not None:
        _write_atomically(out, {"id": rid, "files": paths})
    if as_json:
        typer.echo(json.dumps({"id": rid, "files": paths}, indent=2))
    else:
        for path in paths:
            typer.echo(path)

"""``sfx send``: one request to a running ``sfx serve``, for scripts that cannot speak OSC."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def send(
    imitation: Path = typer.Argument(..., help="The imitation file (sent as an absolute path)."),
    label: str = typer.Argument(..., help='What it should become, for example "door creak".'),
    option: list[str] = typer.Option([], "--option", "-o", help="KEY=VALUE generate option (variations, seed, preset, format, ...)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Server address."),
    port: int = typer.Option(9001, "--port", help="Server UDP port."),
    token: Optional[str] = typer.Option(None, "--token", help="Shared secret, when the server wants one (default: $SFX_TOKEN or the token setting)."),
    timeout: float = typer.Option(120.0, "--timeout", help="Seconds to wait for done or error."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report instead of paths."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
) -> None:
    """Send one generate request to `sfx serve`, wait, print the written paths."""
    from bridge.client import Answer, new_id, request
    from sfxcli.errors import BridgeError, UsageError

    arguments: list[object] = [new_id(), str(imitation.expanduser().resolve()), label]
    for item in option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--option must look like KEY=VALUE, got {item!r}")
        arguments += [key, value]
    from sfxcli.settings import resolve

    token = resolve("token", token).value
    if token:
        arguments += ["token", token]

    def show(answer: Answer) -> None:
        if quiet:
            return
        if answer.address == "/sfx/accepted":
            typer.echo(f"accepted, position {answer.arguments[1]} in the queue", err=True)
        elif answer.address == "/sfx/progress":
            typer.echo(str(answer.arguments[2]), err=True)

    answer = request(host, port, "/sfx/generate", arguments, timeout, ("/sfx/done", "/sfx/error", "/sfx/cancelled"), show)
    if answer.address != "/sfx/done":
        message = answer.arguments[1] if len(answer.arguments) > 1 else "cancelled"
        raise BridgeError(f"server answered: {message}", "")
    paths = [str(p) for p in answer.arguments[1:]]
    if as_json:
        typer.echo(json.dumps({"id": arguments[0], "files": paths}, indent=2))
    else:
        for path in paths:
            typer.echo(path)

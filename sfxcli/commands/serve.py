"""``sfx serve``: the resident model process behind an OSC bridge."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def serve(
    project: Path = typer.Option(Path("."), "--project", "-p", help="Default project folder for results."),
    project_root: list[Path] = typer.Option([], "--project-root", help="A folder clients may put projects in (repeatable; default: --project only). Nothing is ever written outside these."),
    library_root: list[Path] = typer.Option([], "--library-root", help="A folder clients may name as their library (repeatable; default: the library setting, if any)."),
    port: int = typer.Option(9001, "--port", help="UDP port to listen on (0 picks a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; non-loopback needs --allow-remote and --token."),
    engine: Optional[str] = typer.Option(None, "--engine", help="Default engine (auto, library, embedded or sao); requests may ask for another.", show_default="auto, or the engine setting"),
    model: Optional[str] = typer.Option(None, "--model", help="sao: hub id, local model folder or 'debug', loaded once (default: $SFX_SAO_MODEL or stabilityai/stable-audio-open-1.0)."),
    adapter: Optional[Path] = typer.Option(None, "--adapter", help="sao: a controls adapter (.safetensors) from `sfx train controls`."),
    max_queue: int = typer.Option(32, "--max-queue", help="Queued jobs before new requests get a busy error."),
    reply_host: Optional[str] = typer.Option(None, "--reply-host", help="Send replies here instead of to the sender."),
    reply_port: Optional[int] = typer.Option(None, "--reply-port", help="Send replies to this port (and announce startup there)."),
    token: Optional[str] = typer.Option(None, "--token", help="Shared secret every request must carry as 'token', SECRET (visible in ps: prefer --token-file or SFX_TOKEN)."),
    token_file: Optional[Path] = typer.Option(None, "--token-file", help="Read the shared secret from this file (its first line)."),
    allow_remote: bool = typer.Option(False, "--allow-remote", help="Allow listening on a non-loopback address."),
) -> None:
    """Serve generate requests over OSC (UDP) until Ctrl-C."""
    from bridge.server import Server, ServerConfig
    from sfxcli.errors import UsageError
    from sfxcli.request import ENGINE_CHOICES
    from sfxcli.settings import resolve

    chosen = resolve("engine", engine)
    if chosen.value not in ENGINE_CHOICES:
        problem = f"engine must be one of {', '.join(ENGINE_CHOICES)}, got {chosen.value!r}"
        raise chosen.refuse(problem) if chosen.source not in ("command line", "built-in") else UsageError(problem)
    engine = chosen.value
    if not 0 <= port <= 65535 or (reply_port is not None and not 1 <= reply_port <= 65535):
        raise UsageError("ports must be 1..65535 (or 0 for --port to pick one)")
    if max_queue < 1:
        raise UsageError(f"--max-queue must be at least 1, got {max_queue}")
    if adapter is not None and not adapter.expanduser().is_file():
        raise UsageError(f"no controls adapter file at {adapter}")
    if token is not None and token_file is not None:
        raise UsageError("use either --token or --token-file, not both")
    if token_file is not None:
        try:
            token = token_file.expanduser().read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, UnicodeDecodeError, IndexError) as error:
            raise UsageError(f"cannot read a token from {token_file}: {getattr(error, 'strerror', None) or 'empty file'}") from None
    token = resolve("token", token).value
    if token is not None and (not token or len(token) > 256):
        raise UsageError("the token must be 1..256 characters")
    libraries = list(library_root) or ([resolve("library", None).value] if resolve("library", None).value else [])
    config = ServerConfig(project=project.expanduser(), roots=tuple(p.expanduser() for p in project_root),
                          library_roots=tuple(Path(p).expanduser() for p in libraries),
                          host=host, port=port, engine=engine, max_queue=max_queue,
                          model=model, adapter=adapter.expanduser().resolve() if adapter else None,
                          reply_host=reply_host, reply_port=reply_port, token=token, allow_remote=allow_remote)
    Server(config).serve_forever()

"""The ``sfx`` command: joins the command modules and maps errors to exit codes.

``main`` is the only place that catches ``SfxError``: it prints one line (and
a hint) on stderr and exits with the error's code. ``--debug`` anywhere on the
command line shows the traceback instead.
"""

from __future__ import annotations

import sys

import typer

from sfxcli import __version__
from sfxcli.commands import codec, doctor, fx, gen, library, presets, search, send, serve, train

app = typer.Typer(
    name="sfx",
    help="Turn a vocal imitation and a label into finished sound effects.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("gen")(gen.gen)
app.command("serve")(serve.serve)
app.command("send")(send.send)
app.command("doctor")(doctor.doctor)
app.command("search")(search.search)
app.add_typer(presets.app, name="presets")
app.add_typer(library.app, name="library")
app.add_typer(train.app, name="train")
app.add_typer(fx.app, name="fx")
app.add_typer(codec.app, name="codec")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sfx {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors (also accepted after any command)."),
) -> None:
    """Turn a vocal imitation and a label into finished sound effects."""


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    import signal

    from sfxcli.errors import SfxError
    from sfxcli.log import show_on_stderr

    show_on_stderr()
    # SIGTERM unwinds like Ctrl-C, so temp files are removed on the way out
    signal.signal(signal.SIGTERM, _interrupt)

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        # standalone: Typer reports its own usage errors (exit 2) and exits
        app(args=args, prog_name="sfx")
    except SfxError as error:
        if debug:
            raise
        typer.echo(f"error: {error.message}", err=True)
        if error.hint:
            typer.echo(f"hint: {error.hint}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)

"""What a generate request can ask for, defined once.

``GenerateRequest`` is the table: each option is a dataclass field whose
metadata (``Option``) gives its value type, built-in default, range or
choices, help text, command-line flags and OSC key. From it derive

- the options of ``sfx gen`` (``cli_parameters``, read back by ``from_cli``),
- the options ``/sfx/generate`` accepts over OSC and their parsing
  (``osc_options``, ``from_osc``),
- the checks every request passes (``validate``),
- the ``reproduce`` command in each sidecar (``reproduce_args``).

Options whose default a user may set once (engine, subfolder, library,
format, sample rate, model) name a ``settings`` entry: a flag or OSC option
beats the environment, which beats the config file, which beats the
built-in default.

This module is imported by ``sfx --help``: it stays free of numpy and the
engines.
"""

from __future__ import annotations

import inspect
import shlex
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Literal

from sfxcli.errors import UsageError
from sfxcli.presets import SKETCH_MODES

ENGINE_CHOICES: tuple[str, ...] = ("auto", "embedded", "library", "sao")
FORMATS: tuple[str, ...] = ("wav", "flac", "ogg", "mp3")
PITCH_MODES: tuple[str, ...] = ("varispeed", "shift")  # how library recordings follow the imitation's pitch
MAX_VARIATIONS = 64
DEFAULT_MAX_SECONDS = 60.0
MAX_LABEL_CHARS = 500
Replay = Literal["always", "set", "never"]


def fx_list(text: str) -> tuple[str, ...]:
    """A comma-separated list of FX chains; 'none' means dry."""
    return tuple(name.strip() for name in text.split(",") if name.strip() and name.strip() != "none")


def fx_text(chains: tuple[str, ...]) -> str:
    return ",".join(chains) or "none"


def ucs_id(text: str) -> str:
    """A UCS CreatorID or SourceID as typed: checked by the file-name policy, no '_' (UCS's field separator)."""
    from sfxcli.errors import UsageError

    value = text.strip()
    if not value or len(value) > 32 or not all(c.isascii() and (c.isalnum() or c in " -.&'+") for c in value) \
            or value.startswith((".", "-")):
        raise UsageError(f"UCS ids must be 1..32 letters, digits, spaces or - . & ' +, got {text!r}")
    return value


def designer_name(text: str) -> str:
    from sfxcli.errors import UsageError

    value = " ".join(text.split())
    if not value or len(value) > 64 or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise UsageError(f"the designer must be 1..64 printable characters, got {text!r}")
    return value


def timestamp(text: str) -> str:
    """An ISO 8601 date and time, kept to the second (YYYY-MM-DDTHH:MM:SS)."""
    from datetime import datetime

    from sfxcli.errors import UsageError

    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"created must be an ISO 8601 date and time such as 2026-12-03T09:12:00, got {text!r}") from None
    return moment.replace(microsecond=0, tzinfo=None).isoformat()


@dataclass(frozen=True)
class Option:
    """How one request option is named, typed, checked and shown."""

    kind: type  # the value as typed: int, float, str, Path or bool
    help: str
    flags: tuple[str, ...] = ()  # on the command line; () = not there
    osc: str | None = None  # key of /sfx/generate; None = not over OSC
    setting: str | None = None  # the settings entry that gives its default
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    what: str = ""  # how messages name it; the field name by default
    unit: str = ""
    engines: tuple[str, ...] = ()  # engines it changes (for the reproduce command); () = all
    replay: Replay = "set"  # in the reproduce command: always, when set (and not the default), never
    parse: Callable[[str], Any] | None = None  # typed text -> value, where the value is not the text itself
    show: Callable[[Any], str] | None = None  # value -> text for the reproduce command
    name: str = ""  # the field, filled in by ``options()``
    default: Any = None  # the built-in default, filled in by ``options()``

    @property
    def label(self) -> str:
        return self.what or self.name.replace("_", " ")

    def text(self, value: Any) -> str:
        if self.show is not None:
            return self.show(value)
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)


def option(default: Any, help: str, **spec: Any) -> Any:
    """A request field that is also an option (its metadata is the table row)."""
    return field(default=default, metadata={"option": Option(help=help, **spec)})


@dataclass(frozen=True)
class GenerateRequest:
    imitation: Path
    label: str
    variations: int = option(4, "How many files to write.", kind=int, flags=("-n", "--variations"),
                             osc="variations", minimum=1, maximum=MAX_VARIATIONS)
    candidates: int | None = option(None, "Render this many and keep the best -n (default: -n).", kind=int,
                                    flags=("--candidates",), osc="candidates")
    seed: int | None = option(None, "Make the output bit-identical across runs.", kind=int, flags=("--seed",),
                              osc="seed", minimum=0, maximum=2**63 - 1, replay="always")
    project: Path = option(Path("."), "The DAW project folder (must exist).", kind=Path, flags=("--project", "-p"),
                           osc="project", replay="never")
    offset: float = option(0.0, "Where the take starts in the imitation file, seconds (a trimmed DAW item).",
                           kind=float, flags=("--offset",), osc="offset", minimum=0.0, maximum=48 * 3600.0)
    length: float | None = option(None, "How long the take is, seconds (default: to the end of the file).",
                                  kind=float, flags=("--length",), osc="length", minimum=0.001, maximum=48 * 3600.0)
    reverse: bool = option(False, "The take plays the file backwards (a reversed DAW item).", kind=bool,
                           flags=("--reverse",), osc="reverse")
    subfolder: str = option("sfx", "Folder inside the project for the results.", kind=str, flags=("--subfolder",),
                            osc="subfolder", setting="subfolder", replay="never")
    preset: str | None = option(None, "Use this recipe instead of choosing one from the label.", kind=str,
                                flags=("--preset",), osc="preset", replay="always")
    fx: tuple[str, ...] | None = option(None, "Comma-separated FX chains instead of the recipe's own; 'none' for dry.",
                                        kind=str, flags=("--fx",), osc="fx", parse=fx_list, show=fx_text)
    fx_like: Path | None = option(None, "Process the results like this reference sound: its EQ, dynamics and space, "
                                  "matched by the FX estimator (instead of the recipe's FX; after --fx chains).",
                                  kind=Path, flags=("--fx-like",), osc="fx_like", what="fx-like reference")
    engine: str = option("auto", "auto (library when it knows the label, else synthesis), library, embedded, "
                         "or sao (Stable Audio Open).", kind=str, flags=("--engine",), osc="engine",
                         setting="engine", choices=ENGINE_CHOICES, replay="always")
    model: str | None = option(None, "sao: hub id, local model folder, or 'debug' (default: the model setting, "
                               "else stabilityai/stable-audio-open-1.0).", kind=str, flags=("--model",),
                               setting="model", engines=("sao",), replay="always")
    adapter: Path | None = option(None, "sao: a controls adapter (.safetensors) from `sfx train controls`.",
                                  kind=Path, flags=("--adapter",), engines=("sao",))
    steps: int | None = option(None, "sao: sampling steps (default: the recipe's, else the model's).", kind=int,
                               flags=("--steps",), osc="steps", minimum=1, maximum=1000, engines=("sao",))
    cfg_scale: float | None = option(None, "sao: classifier-free guidance scale.", kind=float, flags=("--cfg",),
                                     osc="cfg", what="cfg", minimum=0.0, maximum=30.0, engines=("sao",))
    sketch: str | None = option(None, "sao: start from the 'engine' render (library or synthesis), the "
                                "'imitation' itself, or 'none'.", kind=str, flags=("--sketch",), osc="sketch",
                                choices=SKETCH_MODES, engines=("sao",))
    sketch_noise: float | None = option(None, "sao: how much noise covers the sketch (sigma; 0.5 keeps it close, "
                                        "10 keeps little).", kind=float, flags=("--sketch-noise",),
                                        osc="sketch_noise", what="sketch noise", minimum=0.01, maximum=500.0,
                                        engines=("sao",))
    library: Path | None = option(None, "A folder of your own recordings for the library engine (default: the "
                                  "built-in one).", kind=Path, flags=("--library",), osc="library",
                                  setting="library", engines=("library", "sao"), replay="always")
    library_layers: int = option(1, "Layer this many matching recordings (1 or 2).", kind=int,
                                 flags=("--library-layers",), osc="library_layers", what="library layers",
                                 minimum=1, maximum=2, engines=("library", "sao"))
    library_pitch: str = option("varispeed", "varispeed (sampler-style, fast) or shift (pitch only, keeps "
                                "timing).", kind=str, flags=("--library-pitch",), osc="library_pitch",
                                what="library pitch", choices=PITCH_MODES, engines=("library", "sao"))
    format: str = option("wav", "wav (24-bit), flac (24-bit), ogg or mp3.", kind=str, flags=("--format", "-f"),
                         osc="format", setting="format", choices=FORMATS, replay="always", parse=str.lower)
    sample_rate: int = option(48000, "Output sample rate in Hz.", kind=int, flags=("--sample-rate", "-r"),
                              osc="sample_rate", setting="sample_rate", minimum=8000, maximum=192000, unit=" Hz",
                              replay="always")
    channels: int | None = option(None, "1 (mono) or 2 (stereo); default: the recording's for the library engine, "
                                  "stereo for sao, the recipe's for synthesis (ambiences are stereo).", kind=int,
                                  flags=("--channels", "-c"), osc="channels", minimum=1, maximum=2, replay="always")
    peak: float | None = option(None, "Normalise the true peak to this dBFS (default -1).", kind=float,
                                flags=("--peak",), osc="peak", minimum=-60.0, maximum=0.0, unit=" dBFS")
    lufs: float | None = option(None, "Normalise loudness to this LUFS instead (true peak held at -1 dBFS).",
                                kind=float, flags=("--lufs",), osc="lufs", minimum=-70.0, maximum=0.0)
    seconds: float | None = option(None, "Spread the performance over this many seconds (default: the "
                                   "imitation's length).", kind=float, flags=("--seconds", "-s"), osc="seconds",
                                   minimum=0.1, maximum=600.0)
    creator: str = option("sfx", "UCS CreatorID for file names and metadata, e.g. your initials.", kind=str,
                          flags=("--creator",), osc="creator", setting="creator", replay="always", parse=ucs_id)
    source: str | None = option(None, "UCS SourceID (the project or show; default: the project folder's name).",
                                kind=str, flags=("--source",), osc="source", setting="source", replay="always",
                                parse=ucs_id)
    designer: str | None = option(None, "The sound designer's name written into the metadata.", kind=str,
                                  flags=("--designer",), osc="designer", setting="designer", replay="always",
                                  parse=designer_name)
    position: float = option(0.0, "The take's position on the DAW timeline, seconds (written as the BWF "
                             "TimeReference, so results spot back to it).", kind=float, flags=("--position",),
                             osc="position", minimum=0.0, maximum=7 * 24 * 3600.0)
    created: str | None = option(None, "When the files are dated in their metadata (ISO 8601, default now).",
                                 kind=str, flags=("--created",), osc="created", replay="always", parse=timestamp)
    max_seconds: float = option(DEFAULT_MAX_SECONDS, "Refuse imitations longer than this.", kind=float,
                                flags=("--max-seconds",), what="--max-seconds", minimum=0.001, replay="never")
    plot: bool = option(False, "Save a PNG comparing the imitation's curves with each result's.", kind=bool,
                        flags=("--plot",), replay="never")

    def generative_overrides(self) -> dict[str, Any]:
        """The request's changes to the recipe's [generative] table (sao)."""
        values = {"steps": self.steps, "cfg_scale": self.cfg_scale, "sketch": self.sketch,
                  "sketch_noise": self.sketch_noise}
        return {key: value for key, value in values.items() if value is not None}


def options() -> tuple[Option, ...]:
    """The table: every option of ``GenerateRequest``, in field order."""
    return _OPTIONS


def _table() -> tuple[Option, ...]:
    rows = []
    for item in fields(GenerateRequest):
        spec = item.metadata.get("option")
        if spec is not None:
            rows.append(replace(spec, name=item.name, default=_default(item)))
    return tuple(rows)


def _default(item: Field[Any]) -> Any:
    return None if item.default is MISSING else item.default


_OPTIONS = _table()
BY_NAME = {row.name: row for row in _OPTIONS}


# -- checks ------------------------------------------------------------------------------------------

def _check(row: Option, value: Any) -> None:
    if value is None:
        return
    if row.choices and value not in row.choices:
        raise UsageError(f"{row.label} must be one of {', '.join(row.choices)}, got {value!r}")
    low, high = row.minimum, row.maximum
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                bounds = f"{low:g}..{high:g}" if high < 2**53 else f"{low:g}..2^63-1"
            else:
                bounds = f"at least {low:g}" if low is not None else f"at most {high:g}"
            raise UsageError(f"{row.label} must be {bounds}{row.unit}, got {value:g}")


def validate(request: GenerateRequest) -> None:
    """Every option's range or choices, then the rules between options. Raises ``UsageError``."""
    for row in _OPTIONS:
        _check(row, getattr(request, row.name))
    if request.candidates is not None and not request.variations <= request.candidates <= 4 * MAX_VARIATIONS:
        raise UsageError(f"candidates must be at least the number of variations ({request.variations}) "
                         f"and at most {4 * MAX_VARIATIONS}, got {request.candidates}")
    if request.format == "mp3" and request.sample_rate not in (32000, 44100, 48000):
        raise UsageError(f"mp3 needs a sample rate of 32000, 44100 or 48000 Hz, got {request.sample_rate}")
    if request.peak is not None and request.lufs is not None:
        raise UsageError("use either peak or lufs, not both")
    if not request.label.strip() or "\x00" in request.label:
        raise UsageError("label is empty; describe the sound, for example \"door creak\"")
    if len(request.label) > MAX_LABEL_CHARS:
        raise UsageError(f"label is {len(request.label)} characters long; keep it under {MAX_LABEL_CHARS}")
    if request.adapter is not None and not request.adapter.expanduser().is_file():
        raise UsageError(f"no controls adapter file at {request.adapter}")
    if request.preset is not None:
        from sfxcli.presets import recipe_names

        if request.preset not in recipe_names():
            raise UsageError(f"no recipe named {request.preset!r}; run `sfx presets list`")


# -- building requests -------------------------------------------------------------------------------

def _typed(row: Option, value: Any) -> Any:
    if value is None:
        return None
    if row.parse is not None and isinstance(value, str):
        return row.parse(value)
    if row.kind is Path and not isinstance(value, Path):
        return Path(value).expanduser()
    return value


def build(imitation: Path, label: str, given: dict[str, Any], defaults: dict[str, Any] | None = None) -> GenerateRequest:
    """A checked request: ``given`` options (flags or OSC keys already typed), then ``defaults`` (a server's),
    then each option's setting (environment, config file), then the built-in default."""
    from sfxcli import settings

    values: dict[str, Any] = {}
    for row in _OPTIONS:
        value = given.get(row.name)
        if value is None and defaults is not None:
            value = defaults.get(row.name)
        configured = None
        if value is None and row.setting is not None:
            configured = settings.value(row.setting)
            value = configured.value
        try:
            value = _typed(row, value)
            _check(row, value)
        except UsageError as error:
            if configured is None or configured.source == "built-in":
                raise
            raise configured.refuse(error.message) from None
        if value is not None:
            values[row.name] = value
    request = GenerateRequest(imitation=imitation, label=label, **values)
    validate(request)
    return request


# -- the command line --------------------------------------------------------------------------------

def cli_parameters() -> list[inspect.Parameter]:
    """The ``sfx gen`` options, as Typer reads them from a signature (every default None: unset)."""
    import typer

    params = []
    for row in _OPTIONS:
        if not row.flags:
            continue
        shown: bool | str = True
        if row.setting is not None:
            shown = f"{row.text(row.default) if row.default is not None else 'built-in'}, or the {row.setting} setting"
        elif row.default is None:
            shown = False
        kind = bool if row.kind is bool else (str if row.parse is not None else row.kind)
        default = typer.Option(False if kind is bool else None, *row.flags, help=row.help,
                               show_default=shown if kind is not bool else False)
        annotation = kind if kind is bool else kind | None  # type: ignore[operator]
        params.append(inspect.Parameter(row.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=annotation))
    return params


def from_cli(imitation: Path, label: str, values: dict[str, Any]) -> GenerateRequest:
    """The request from ``sfx gen``'s parsed options (``cli_parameters``); False flags count as unset."""
    given = {name: value for name, value in values.items()
             if name in BY_NAME and value is not None and value is not False}
    return build(imitation, label, given)


# -- OSC ---------------------------------------------------------------------------------------------

def osc_options() -> dict[str, Option]:
    """OSC key -> option, for /sfx/generate."""
    return {row.osc: row for row in _OPTIONS if row.osc}


def osc_kind(row: Option) -> type:
    """The type an OSC argument must have (or be text convertible to): paths and lists travel as strings."""
    return str if row.kind is Path or row.parse is not None else row.kind


def from_osc(imitation: Path, label: str, values: dict[str, Any], defaults: dict[str, Any]) -> GenerateRequest:
    """The request from /sfx/generate's options (OSC key -> value already of ``osc_kind``)."""
    keys = osc_options()
    given = {keys[key].name: value for key, value in values.items()}
    return build(imitation, label, given, defaults)


# -- the reproduce command ---------------------------------------------------------------------------

def reproduce_args(request: GenerateRequest, engine: str, run: dict[str, Any]) -> list[str]:
    """The ``sfx gen`` line that makes a result again: ``run`` holds what the run decided (seed, recipe,
    variations, resolved paths); every option that changes the result and applies to ``engine`` is
    spelled out, so neither a changed config file nor a changed default can alter the replay."""
    args = ["sfx", "gen", str(Path(request.imitation).resolve()), request.label]
    for row in _OPTIONS:
        if not row.flags or row.replay == "never" or (row.engines and engine not in row.engines):
            continue
        value = run[row.name] if row.name in run else getattr(request, row.name)
        if value is None or (row.replay == "set" and value == row.default):
            continue
        if row.kind is bool:
            if value:
                args.append(row.flags[-1] if row.flags[-1].startswith("--") else row.flags[0])
            continue
        args += [next(flag for flag in row.flags if flag.startswith("--")), row.text(value)]
    return args


def reproduce_command(request: GenerateRequest, engine: str, run: dict[str, Any]) -> str:
    return shlex.join(reproduce_args(request, engine, run))

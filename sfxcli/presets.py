"""Recipes and FX chains: typed, frozen data loaded from TOML in ``presets/``.

A recipe file holds one recipe (``presets/recipes/<name>.toml``); an FX chain
file one chain (``presets/fx/<name>.toml``). A recipe may ``extends`` another
recipe, a chain may ``include`` other chains. Every key maps onto a dataclass
field; an unknown key or a wrong type is reported with the file and key.
"""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from sfxcli.errors import PresetError

Source = Literal["none", "level", "pitch", "brightness"]
SketchMode = Literal["engine", "imitation", "none"]  # what a generative model's audio-to-audio starts from
SKETCH_MODES: tuple[str, ...] = get_args(SketchMode)
SOURCES = get_args(Source)


@dataclass(frozen=True)
class Mapped:
    """A parameter that moves between ``low`` and ``high`` as a control moves 0..1.

    Written in TOML as ``[low, high]`` (with the layer's ``<name>_from`` key
    naming the control) or as a single number (fixed).
    """

    low: float
    high: float

    @classmethod
    def parse(cls, value: Any, where: str) -> "Mapped":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cls(float(value), float(value))
        if (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        ):
            return cls(float(value[0]), float(value[1]))
        raise PresetError(f"{where}: expected a number or [low, high], got {value!r}")


@dataclass(frozen=True)
class Layer:
    """Fields every layer kind shares."""

    kind: str
    gain_db: float = 0.0
    dynamics: float = 1.0  # amplitude = imitation gain ** dynamics; 0 = ignore loudness
    follow_envelope: bool = True  # multiply by the imitation's envelope


@dataclass(frozen=True)
class ToneLayer(Layer):
    """Oscillator bank: a pitched voice following the imitation's pitch."""

    frequency_hz: Mapped = Mapped(110.0, 440.0)
    frequency_from: Source = "pitch"
    waveform: Literal["sine", "saw", "square", "triangle"] = "saw"
    harmonics: int = 24
    tilt: Mapped = Mapped(2.0, 0.6)  # harmonic roll-off exponent: larger = darker
    tilt_from: Source = "brightness"
    voices: int = 1
    detune_cents: float = 0.0
    vibrato_hz: float = 0.0
    vibrato_semitones: float = 0.0
    am_hz: Mapped = Mapped(0.0, 0.0)
    am_from: Source = "none"
    am_depth: float = 0.0
    fm_ratio: float = 0.0
    fm_index: Mapped = Mapped(0.0, 0.0)
    fm_from: Source = "none"
    inharmonicity: float = 0.0
    roughness: float = 0.0  # random period jitter, 0..1 (growls, rasps)


@dataclass(frozen=True)
class NoiseLayer(Layer):
    """Spectrally shaped noise: a filter whose centre follows a control."""

    color: Literal["white", "pink", "brown"] = "pink"
    shape: Literal["band", "lowpass", "highpass"] = "band"
    cutoff_hz: Mapped = Mapped(300.0, 4000.0)
    cutoff_from: Source = "brightness"
    bandwidth_octaves: float = 1.5
    resonance_db: float = 0.0
    flutter_hz: float = 0.0  # slow random amplitude wobble (wind, fire)
    flutter_depth: float = 0.0


@dataclass(frozen=True)
class PulseLayer(Layer):
    """Pulse train through resonators: creaks, ratchets, motors, buzzes."""

    rate_hz: Mapped = Mapped(20.0, 120.0)
    rate_from: Source = "pitch"
    jitter: float = 0.1
    amplitude_jitter: float = 0.2
    click_ms: float = 1.0
    resonances_hz: tuple[float, ...] = (500.0, 1200.0, 2500.0)
    resonance_q: float = 10.0
    dry: float = 0.2  # share of the raw click next to the resonated one


@dataclass(frozen=True)
class GrainLayer(Layer):
    """Random short events at a density that follows a control."""

    grain: Literal["click", "drip", "ping"] = "click"
    density_hz: Mapped = Mapped(5.0, 60.0)
    density_from: Source = "level"
    grain_ms: Mapped = Mapped(3.0, 3.0)
    frequency_hz: Mapped = Mapped(800.0, 3000.0)
    frequency_from: Source = "brightness"
    frequency_spread: float = 0.3  # random spread in octaves
    amplitude_jitter: float = 0.6
    highpass_hz: float = 0.0


@dataclass(frozen=True)
class HitLayer(Layer):
    """An event at each onset of the imitation: thump, noise burst, ringing modes."""

    thump_hz: Mapped = Mapped(0.0, 0.0)  # start frequency of a falling sine; 0 = none
    thump_from: Source = "pitch"
    thump_drop: float = 0.5  # end frequency / start frequency
    thump_ms: float = 120.0
    noise_ms: Mapped = Mapped(30.0, 30.0)
    noise_cutoff_hz: Mapped = Mapped(2000.0, 8000.0)
    noise_from: Source = "brightness"
    noise_gain_db: float = 0.0
    modes_hz: tuple[float, ...] = ()
    modes_scale: Mapped = Mapped(1.0, 1.0)
    modes_from: Source = "pitch"
    ring_seconds: float = 0.5
    mode_gain_db: float = 0.0
    follow_envelope: bool = False


LAYER_KINDS: dict[str, type[Layer]] = {
    "tone": ToneLayer,
    "noise": NoiseLayer,
    "pulses": PulseLayer,
    "grains": GrainLayer,
    "hit": HitLayer,
}


@dataclass(frozen=True)
class Variation:
    """How far each variation may wander from the recipe (drawn per seed)."""

    pitch_semitones: float = 1.5
    brightness: float = 0.1
    density: float = 0.2
    resonance: float = 0.06  # relative spread of resonator and mode frequencies


@dataclass(frozen=True)
class Generative:
    """How generative models (the Stable Audio Open engine) are prompted and steered for this recipe."""

    prompt: str = "sound effect, high quality recording"  # style words added after the label
    negative_prompt: str = "music, speech, singing, human voice, low quality, distorted"
    steps: int = 0  # sampling steps; 0: the model's own default (100 for 1.0, 8 for Small)
    cfg_scale: float = 0.0  # classifier-free guidance; 0: the model's own default (7 for 1.0, 1 for Small)
    sketch: SketchMode = "engine"  # what audio-to-audio starts from
    sketch_noise: float = 2.0  # noise put on the sketch, as a diffusion sigma (SNR 1/sigma^2)
    control_strength: float = 1.0  # scale of a loaded controls adapter's effect


@dataclass(frozen=True)
class Effect:
    """One pedalboard plugin: its class name and constructor arguments."""

    type: str
    params: tuple[tuple[str, float | bool | str], ...] = ()


@dataclass(frozen=True)
class FxChain:
    name: str
    description: str
    effects: tuple[Effect, ...]
    input_rms_dbfs: float | None = None  # bring the sound to this RMS before the effects, and back after


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    family: str
    catid: str  # UCS CatID used when the label itself does not name one
    layers: tuple[Layer, ...]
    keywords: tuple[str, ...] = ()
    ucs: tuple[str, ...] = ()  # UCS CatIDs or categories this recipe serves
    fx: tuple[str, ...] = ()
    follow: float = 0.85  # how strongly the finished sound is held to the imitation's envelope
    tail_seconds: float = 0.25
    channels: int = 1  # 2 for ambiences and textures: a real stereo image from the embedded engine
    variation: Variation = Variation()
    generative: Generative = Generative()
    source_file: str = ""


def presets_root() -> Path:
    """The ``presets`` setting (``$SFX_PRESETS``), else the copy inside an installed wheel, else the repo's."""
    from sfxcli.settings import get

    configured = get("presets")
    if configured:
        return Path(configured)
    bundled = Path(__file__).parent / "_presets"
    if bundled.is_dir():
        return bundled
    return Path(__file__).resolve().parent.parent / "presets"


def user_presets_root() -> Path:
    """Your own presets (the ``user_presets`` setting, else the platform's data folder): ``fx/NAME.toml``
    written by ``sfx fx match``. A name found here wins over a built-in one."""
    from sfxcli.settings import get

    configured = get("user_presets")
    if configured:
        return Path(configured).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("sfx", appauthor=False)) / "presets"


def _fx_path(name: str, root: Path) -> Path:
    """Where chain ``name`` is read from: the user's folder first, then ``root``."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise PresetError(f"FX chain names are plain names, not paths: {name!r}")
    own = user_presets_root() / "fx" / f"{name}.toml"
    return own if own.is_file() else root / "fx" / f"{name}.toml"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise PresetError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise PresetError(f"{path}: cannot read: {error.strerror}") from None


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if hint is Mapped:
        return Mapped.parse(value, where)
    if origin is Literal:
        if value not in get_args(hint):
            raise PresetError(f"{where}: expected one of {', '.join(map(str, get_args(hint)))}, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise PresetError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PresetError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PresetError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise PresetError(f"{where}: expected a string, got {value!r}")
        return value
    if origin is tuple:
        item = get_args(hint)[0]
        if isinstance(value, str) and item is str:
            value = [value]
        if not isinstance(value, list):
            raise PresetError(f"{where}: expected a list, got {value!r}")
        return tuple(_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    raise PresetError(f"{where}: unsupported value {value!r}")  # pragma: no cover - schema bug


def _build(cls: type, data: dict[str, Any], where: str, skip: tuple[str, ...] = ()) -> Any:
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known - set(skip))
    if unknown:
        raise PresetError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    kwargs = {}
    for f in fields(cls):
        if f.name in data and f.name not in skip:
            kwargs[f.name] = _coerce(data[f.name], hints[f.name], f"{where}: {f.name}")
        elif f.default is MISSING and f.default_factory is MISSING and f.name not in skip:  # type: ignore[misc]
            raise PresetError(f"{where}: missing key {f.name!r}")
    return kwargs


def _parse_layer(data: Any, where: str) -> Layer:
    if not isinstance(data, dict):
        raise PresetError(f"{where}: a layer must be a table")
    kind = data.get("kind")
    if kind not in LAYER_KINDS:
        raise PresetError(f"{where}: kind must be one of {', '.join(LAYER_KINDS)}, got {kind!r}")
    cls = LAYER_KINDS[kind]
    return cls(**_build(cls, data, where))


def _recipe_data(name: str, root: Path, seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], Path]:
    path = root / "recipes" / f"{name}.toml"
    if not path.is_file():
        raise PresetError(f"no recipe named {name!r} (looked for {path})")
    data = _read_toml(path)
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str):
            raise PresetError(f"{path}: extends: expected a recipe name, got {parent!r}")
        if parent in seen or parent == name:
            raise PresetError(f"{path}: extends: recipe {parent!r} extends itself")
        base, _ = _recipe_data(parent, root, seen + (name,))
        base.pop("name", None)
        merged = {table: {**base.get(table, {}), **data.get(table, {})} for table in ("variation", "generative")}
        data = {**base, **data}
        data.update({table: values for table, values in merged.items() if values})
    return data, path


@lru_cache(maxsize=None)
def load_recipe(name: str, root: Path | None = None) -> Recipe:
    root = root or presets_root()
    data, path = _recipe_data(name, root)
    where = str(path)
    data.setdefault("name", name)
    if data["name"] != name:
        raise PresetError(f"{where}: name: {data['name']!r} must match the file name {name!r}")
    layers_raw = data.get("layers")
    if not isinstance(layers_raw, list) or not layers_raw:
        raise PresetError(f"{where}: layers: a recipe needs at least one [[layers]] table")
    layers = tuple(_parse_layer(layer, f"{where}: layers[{i}]") for i, layer in enumerate(layers_raw))
    variation_raw = data.get("variation", {})
    if not isinstance(variation_raw, dict):
        raise PresetError(f"{where}: variation: expected a table")
    variation = Variation(**_build(Variation, variation_raw, f"{where}: variation"))
    generative_raw = data.get("generative", {})
    if not isinstance(generative_raw, dict):
        raise PresetError(f"{where}: generative: expected a table")
    generative = Generative(**_build(Generative, generative_raw, f"{where}: generative"))
    kwargs = _build(Recipe, data, where, skip=("layers", "variation", "generative", "source_file"))
    recipe = Recipe(**kwargs, layers=layers, variation=variation, generative=generative, source_file=str(path))
    if not 0.0 <= recipe.follow <= 1.0:
        raise PresetError(f"{where}: follow: expected 0..1, got {recipe.follow}")
    if recipe.channels not in (1, 2):
        raise PresetError(f"{where}: channels: expected 1 or 2, got {recipe.channels}")
    _check_generative(generative, f"{where}: generative")
    for chain in recipe.fx:
        load_fx(chain, root)
    return recipe


def _check_generative(generative: Generative, where: str) -> None:
    limits = {"steps": (0, 1000), "cfg_scale": (0.0, 30.0), "sketch_noise": (0.01, 500.0),
              "control_strength": (0.0, 4.0)}
    for key, (low, high) in limits.items():
        value = getattr(generative, key)
        if not low <= value <= high:
            raise PresetError(f"{where}: {key}: expected {low}..{high}, got {value}")


def _names(kind: str, root: Path | None) -> list[str]:
    return sorted(p.stem for p in ((root or presets_root()) / kind).glob("*.toml"))


def recipe_names(root: Path | None = None) -> list[str]:
    return _names("recipes", root)


def fx_names(root: Path | None = None) -> list[str]:
    """Built-in chains and the user's own."""
    own = sorted(p.stem for p in (user_presets_root() / "fx").glob("*.toml"))
    return sorted(set(_names("fx", root)) | set(own))


@lru_cache(maxsize=None)
def all_recipes(root: Path | None = None) -> tuple[Recipe, ...]:
    return tuple(load_recipe(name, root) for name in recipe_names(root))


FX_KEYS = ("description", "effects", "include", "input_rms_dbfs", "name")


def _fx_effects(name: str, root: Path, seen: tuple[str, ...]) -> tuple[list[Effect], str, Path]:
    path = _fx_path(name, root)
    if not path.is_file():
        raise PresetError(f"no FX chain named {name!r} (looked for {path} and in {user_presets_root() / 'fx'})")
    data = _read_toml(path)
    where = str(path)
    unknown = sorted(set(data) - set(FX_KEYS))
    if unknown:
        raise PresetError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(FX_KEYS)})")
    effects: list[Effect] = []
    for included in _coerce(data.get("include", []), tuple[str, ...], f"{where}: include"):
        if included in seen or included == name:
            raise PresetError(f"{where}: include: chain {included!r} includes itself")
        effects.extend(_fx_effects(included, root, seen + (name,))[0])
    raw = data.get("effects", [])
    if not isinstance(raw, list):
        raise PresetError(f"{where}: effects: expected a list of [[effects]] tables")
    for i, table in enumerate(raw):
        if not isinstance(table, dict) or not isinstance(table.get("type"), str):
            raise PresetError(f"{where}: effects[{i}]: each effect needs a type, such as \"Reverb\"")
        params = tuple((k, v) for k, v in table.items() if k != "type")
        effect = Effect(type=table["type"], params=params)
        validate_effect(effect, f"{where}: effects[{i}]")
        effects.append(effect)
    return effects, str(data.get("description", "")), path


def load_fx(name: str, root: Path | None = None) -> FxChain:
    """A chain by name (the user's own first). Read each time: ``sfx fx match`` may have just written it."""
    effects, description, path = _fx_effects(name, root or presets_root(), ())
    level = _read_toml(path).get("input_rms_dbfs")
    if level is not None and (isinstance(level, bool) or not isinstance(level, (int, float)) or not -60 <= level <= 0):
        raise PresetError(f"{path}: input_rms_dbfs: expected a level from -60 to 0 dBFS, got {level!r}")
    return FxChain(name=name, description=description, effects=tuple(effects),
                   input_rms_dbfs=None if level is None else float(level))


# pedalboard plugins a chain may use; anything else is refused on load.
ALLOWED_EFFECTS = (
    "Bitcrush", "Chorus", "Clipping", "Compressor", "Delay", "Distortion", "Gain",
    "HighShelfFilter", "HighpassFilter", "LadderFilter", "Limiter", "LowShelfFilter",
    "LowpassFilter", "NoiseGate", "PeakFilter", "Phaser", "PitchShift", "Reverb",
)


def validate_effect(effect: Effect, where: str) -> None:
    if effect.type not in ALLOWED_EFFECTS:
        raise PresetError(f"{where}: type: unknown effect {effect.type!r} (use one of {', '.join(ALLOWED_EFFECTS)})")
    make_plugin(effect, where)


def make_plugin(effect: Effect, where: str = "effect") -> Any:
    import pedalboard

    cls = getattr(pedalboard, effect.type)
    try:
        return cls(**dict(effect.params))
    except (TypeError, ValueError) as error:
        raise PresetError(f"{where}: {effect.type}: {error}") from None


def from_table(cls: type, data: Any, where: str) -> Any:
    """A frozen config dataclass from a TOML table: unknown keys and wrong types are refused, naming ``where``."""
    if not isinstance(data, dict):
        raise PresetError(f"{where}: expected a table")
    return cls(**_build(cls, data, where))


def training_preset(kind: str, name: str, root: Path | None = None) -> tuple[dict[str, Any], Path]:
    """``presets/training/<kind>-<name>.toml`` as a dict, for ``sfx train``."""
    path = (root or presets_root()) / "training" / f"{kind}-{name}.toml"
    if not path.is_file():
        available = sorted(p.stem.split("-", 1)[1] for p in path.parent.glob(f"{kind}-*.toml"))
        raise PresetError(f"no {kind} training preset named {name!r} (looked for {path})",
                          f"available: {', '.join(available) or 'none'}")
    return _read_toml(path), path

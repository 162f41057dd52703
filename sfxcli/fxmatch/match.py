"""Matching a reference's processing: read it, estimate (or search) the setting, make it a preset.

``read_reference`` is the file edge (one line, its own exit code, for an
unreadable, too short or silent reference); ``match`` is the pure step on
arrays; ``preset_text`` / ``write_preset`` turn a match into an FX preset
TOML that ``sfx gen --fx NAME`` and every FX chain option read back.
"""

from __future__ import annotations

import re
import time
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import numpy as np

from sfxcli.errors import (NoEstimatorError, ReferenceSilentError, ReferenceTooShortError, ReferenceUnreadableError,
                           UsageError)
from sfxcli.fxmatch.chain import Chain
from sfxcli.fxmatch.distance import stft_distance
from sfxcli.fxmatch.estimator import LEVEL_DBFS, Estimator, at_level
from sfxcli.fxmatch.search import SearchConfig, refine, search
from sfxcli.match.features import RATE
from sfxcli.presets import Effect, FxChain

MIN_REFERENCE_SECONDS = 0.5
MAX_REFERENCE_SECONDS = 60.0
SILENT_DBFS = -60.0
Method = Literal["estimator", "search"]


def read_reference(path: str | Path, what: str = "reference") -> np.ndarray:
    """A reference (or dry) sound as mono float64 at RATE, its first MAX_REFERENCE_SECONDS."""
    from sfxcli.analysis import resample
    from sfxcli.audio import read_sound
    from sfxcli.errors import AudioInputError, MissingFileError, NotAFileError, SilentAudioError

    try:
        samples, rate = read_sound(path)
    except SilentAudioError:
        raise ReferenceSilentError(f"{what} is silent (peak below {SILENT_DBFS:g} dBFS): {path}") from None
    except AudioInputError as error:
        hint = "check the path" if isinstance(error, (MissingFileError, NotAFileError)) else None
        raise ReferenceUnreadableError(f"{what} cannot be read: {error}", hint) from None
    seconds = len(samples) / rate
    if seconds < MIN_REFERENCE_SECONDS:
        raise ReferenceTooShortError(f"{what} is {seconds:.2f} s long ({path}); matching needs at least "
                                     f"{MIN_REFERENCE_SECONDS} s")
    samples = samples[: int(MAX_REFERENCE_SECONDS * rate)]
    return resample(samples, rate, RATE)


@dataclass(frozen=True)
class MatchResult:
    chain: Chain
    setting: np.ndarray  # normalised
    method: str  # "estimator", "search", "estimator + search"
    seconds: float
    distance: float | None = None  # STFT distance of the dry sound through the setting to the reference (with a dry)
    renders: int = 0

    def values(self) -> list[tuple[str, dict[str, float]]]:
        return self.chain.values(self.setting)

    def effects(self) -> tuple[Effect, ...]:
        return self.chain.effects(self.setting)

    def fx_chain(self, name: str = "matched", description: str = "") -> FxChain:
        return FxChain(name=name, description=description, effects=self.effects(), input_rms_dbfs=LEVEL_DBFS)


def match(chain: Chain, reference: np.ndarray, dry: np.ndarray | None = None, method: Method = "estimator",
          estimator: Estimator | None = None, search_config: SearchConfig = SearchConfig(),
          progress: Callable[[float], None] | None = None, polish: int = 0) -> MatchResult:
    """The setting of ``chain`` that processes a dry sound like ``reference`` (both at RATE).

    ``estimator``: one network pass (with ``dry``, on the pair; without, on
    the reference alone), then with ``dry`` a local polish of ``polish``
    chain renders. ``search``: differential evolution on the pair, started
    from the estimator's answer when there is one; needs ``dry``.
    """
    started = time.perf_counter()
    if dry is not None:
        n = max(len(dry), len(reference))
        dry = at_level(np.pad(dry, (0, n - len(dry))), LEVEL_DBFS)
        reference = np.pad(reference, (0, n - len(reference)))
    if method == "search":
        if dry is None:
            raise UsageError("--search needs the dry sound the reference was made from: pass --dry DRY.wav")
        start = estimator.estimate(reference, dry) if estimator is not None else None
        found = search(chain, dry, reference, search_config, start=start, progress=progress)
        return MatchResult(chain, found.setting, "estimator + search" if start is not None else "search",
                           time.perf_counter() - started, found.distance, found.renders)
    if estimator is None:
        raise NoEstimatorError(f"no estimator for chain {chain.name}")
    setting = estimator.estimate(reference, dry)
    if dry is not None and polish > 1:
        polished = refine(chain, dry, reference, setting, polish)
        return MatchResult(chain, polished.setting, f"estimator + polish ({polish} renders)",
                           time.perf_counter() - started, polished.distance, polish)
    distance = stft_distance(chain.render(dry, RATE, setting), reference) if dry is not None else None
    return MatchResult(chain, setting, "estimator", time.perf_counter() - started, distance, 1 if dry is not None else 0)


PRESET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def preset_name(text: str) -> str:
    if not PRESET_NAME.match(text):
        raise UsageError(f"preset name {text!r} must be 1-64 letters, digits, '-' or '_' (no spaces or paths)")
    return text


def preset_text(result: MatchResult, description: str) -> str:
    """The FX preset TOML of a match: one [[effects]] table per pedalboard plugin."""
    lines = [f"description = {_toml_string(description)}",
             f"# matched by sfx fx match ({result.method}) for the chain {result.chain.name}",
             "# the effects expect the sound at this RMS level (sfx brings it there and back):",
             f"input_rms_dbfs = {LEVEL_DBFS:g}"]
    for effect in result.effects():
        lines += ["", "[[effects]]", f"type = {_toml_string(effect.type)}"]
        lines += [f"{key} = {value:g}" if isinstance(value, float) else f"{key} = {value}" for key, value in effect.params]
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'


def write_preset(result: MatchResult, name: str, folder: Path, description: str, overwrite: bool = False) -> Path:
    """``folder/fx/NAME.toml``, written atomically; an existing preset is kept unless ``overwrite``."""
    from sfxcli.errors import OutputError

    target = folder / "fx" / f"{preset_name(name)}.toml"
    if target.exists() and not overwrite:
        raise OutputError(f"an FX preset named {name!r} exists: {target}", "pass --name NEW or --force")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(preset_text(result, description), encoding="utf-8")
        temporary.replace(target)
    except OSError as error:
        raise OutputError(f"cannot write the preset {target}: {error.strerror}",
                          "set user_presets (SFX_USER_PRESETS) to a writable folder") from None
    return target



def chain_like(reference: Path) -> FxChain:
    """The FX chain that processes any dry sound like ``reference``: the shipped estimator on the reference
    alone, for the default chain (``sfx gen --fx-like``). Cached per file version."""
    from sfxcli.audio import regular_file

    path, size = regular_file(reference, "fx-like reference")
    return _chain_like(str(path.resolve()), path.stat().st_mtime_ns, size)


@lru_cache(maxsize=16)
def _chain_like(path: str, mtime_ns: int, size: int) -> FxChain:
    from sfxcli.fxmatch.chain import DEFAULT_CHAIN, parse_chain
    from sfxcli.fxmatch.estimator import estimator_for

    chain = parse_chain(DEFAULT_CHAIN)
    result = match(chain, read_reference(path, "fx-like reference"), None, "estimator", estimator_for(chain))
    return result.fx_chain(f"like {Path(path).name}", f"matched to {path}")

"""FX chains whose settings can be matched: each element's parameters, their ranges, and the pedalboard plugins they make.

A setting of a chain is a vector ``u`` in [0, 1]^d, one entry per parameter
in chain order: what the estimator predicts and the search explores. Each
parameter maps its unit interval onto its range linearly or logarithmically
(frequencies, ratios and times), so equal steps in ``u`` are equal steps in
what a listener hears. ``values`` gives the settings in their units;
``effects`` the pedalboard effects a preset stores.

Gains that only change the overall level (a compressor's make-up, a reverb's
dry level as such) are left out: sfx levels every result at the end, and the
audio distances compare level-matched sounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from sfxcli.errors import UnknownFxElementError
from sfxcli.presets import Effect

DEFAULT_CHAIN = "eq,compressor,reverb"


@dataclass(frozen=True)
class Param:
    """One matched parameter: its name (with unit), range and scale."""

    name: str
    low: float
    high: float
    log: bool = False

    def value(self, u: float) -> float:
        """The setting for a normalised ``u`` in [0, 1]."""
        u = float(np.clip(u, 0.0, 1.0))
        if self.log:
            return float(self.low * (self.high / self.low) ** u)
        return float(self.low + (self.high - self.low) * u)

    def normalised(self, value: float) -> float:
        """The ``u`` of a setting (clipped to the range)."""
        value = float(np.clip(value, self.low, self.high))
        if self.log:
            return float(np.log(value / self.low) / np.log(self.high / self.low))
        return float((value - self.low) / (self.high - self.low))


Values = dict[str, float]


@dataclass(frozen=True)
class Element:
    """One chain element (``eq``, ``reverb``...): what it sets and the plugins it becomes."""

    name: str
    description: str
    params: tuple[Param, ...]
    build: Callable[[Values], tuple[Effect, ...]]


def _effect(kind: str, **params: float) -> Effect:
    return Effect(type=kind, params=tuple((k, round(float(v), 4)) for k, v in params.items()))


def _eq(v: Values) -> tuple[Effect, ...]:
    return (_effect("LowShelfFilter", cutoff_frequency_hz=v["low_hz"], gain_db=v["low_gain_db"], q=0.707),
            _effect("PeakFilter", cutoff_frequency_hz=v["mid_hz"], gain_db=v["mid_gain_db"], q=v["mid_q"]),
            _effect("HighShelfFilter", cutoff_frequency_hz=v["high_hz"], gain_db=v["high_gain_db"], q=0.707))


def _compressor(v: Values) -> tuple[Effect, ...]:
    return (_effect("Compressor", threshold_db=v["threshold_db"], ratio=v["ratio"], attack_ms=v["attack_ms"],
                    release_ms=v["release_ms"]),)


def _reverb(v: Values) -> tuple[Effect, ...]:
    return (_effect("Reverb", room_size=v["room_size"], damping=v["damping"], wet_level=v["wet"],
                    dry_level=1.0 - v["wet"], width=1.0),)


def _delay(v: Values) -> tuple[Effect, ...]:
    return (_effect("Delay", delay_seconds=v["delay_seconds"], feedback=v["feedback"], mix=v["mix"]),)


ELEMENTS: dict[str, Element] = {element.name: element for element in (
    Element("eq", "three-band EQ: low shelf, bell, high shelf", (
        Param("low_hz", 50.0, 400.0, log=True), Param("low_gain_db", -12.0, 12.0),
        Param("mid_hz", 250.0, 6000.0, log=True), Param("mid_gain_db", -12.0, 12.0),
        Param("mid_q", 0.5, 4.0, log=True),
        Param("high_hz", 2000.0, 10000.0, log=True), Param("high_gain_db", -12.0, 12.0)), _eq),
    Element("compressor", "compressor (level-matched: no make-up gain)", (
        Param("threshold_db", -50.0, 0.0), Param("ratio", 1.0, 20.0, log=True),
        Param("attack_ms", 0.5, 100.0, log=True), Param("release_ms", 20.0, 1000.0, log=True)), _compressor),
    Element("reverb", "algorithmic reverb: size, damping, wet share", (
        Param("room_size", 0.0, 1.0), Param("damping", 0.0, 1.0), Param("wet", 0.0, 0.8)), _reverb),
    Element("delay", "echo: time, feedback, mix", (
        Param("delay_seconds", 0.03, 0.6, log=True), Param("feedback", 0.0, 0.7), Param("mix", 0.0, 0.6)), _delay),
    Element("distortion", "saturation", (Param("drive_db", 0.0, 36.0),),
            lambda v: (_effect("Distortion", drive_db=v["drive_db"]),)),
    Element("highpass", "high-pass filter", (Param("cutoff_hz", 20.0, 2000.0, log=True),),
            lambda v: (_effect("HighpassFilter", cutoff_frequency_hz=v["cutoff_hz"]),)),
    Element("lowpass", "low-pass filter", (Param("cutoff_hz", 1000.0, 20000.0, log=True),),
            lambda v: (_effect("LowpassFilter", cutoff_frequency_hz=v["cutoff_hz"]),)),
)}


@dataclass(frozen=True)
class Chain:
    """Elements in processing order."""

    elements: tuple[Element, ...]

    @property
    def name(self) -> str:
        return ",".join(element.name for element in self.elements)

    @property
    def params(self) -> tuple[tuple[Element, Param], ...]:
        return tuple((element, param) for element in self.elements for param in element.params)

    @property
    def dims(self) -> int:
        return len(self.params)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(f"{element.name}.{param.name}" for element, param in self.params)

    def values(self, u: np.ndarray) -> list[tuple[str, Values]]:
        """Each element's settings in their units, for a normalised vector ``u``."""
        u = self._checked(u)
        out: list[tuple[str, Values]] = []
        i = 0
        for element in self.elements:
            out.append((element.name, {p.name: p.value(u[i + k]) for k, p in enumerate(element.params)}))
            i += len(element.params)
        return out

    def normalised(self, values: list[tuple[str, Values]]) -> np.ndarray:
        """The vector ``u`` of settings given in their units (the inverse of ``values``)."""
        given = dict(values)
        return np.array([param.normalised(given[element.name][param.name]) for element, param in self.params])

    def effects(self, u: np.ndarray) -> tuple[Effect, ...]:
        return tuple(effect for name, values in self.values(u) for effect in ELEMENTS[name].build(values))

    def board(self, u: np.ndarray):  # type: ignore[no-untyped-def]
        """A pedalboard ``Pedalboard`` of the setting."""
        from pedalboard import Pedalboard

        from sfxcli.presets import make_plugin

        return Pedalboard([make_plugin(effect) for effect in self.effects(u)])

    def render(self, audio: np.ndarray, sample_rate: int, u: np.ndarray) -> np.ndarray:
        """Mono ``audio`` through the setting ``u``; as long as the input (pad it to hear tails)."""
        out = self.board(u)(np.asarray(audio, dtype=np.float32)[None, :], sample_rate, reset=True)[0]
        out = np.asarray(out, dtype=np.float64)
        return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)

    def _checked(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=np.float64).reshape(-1)
        if len(u) != self.dims:
            raise ValueError(f"chain {self.name} has {self.dims} parameters, got {len(u)}")
        return u


def parse_chain(text: str) -> Chain:
    """``"eq,compressor,reverb"`` as a Chain; an unknown or repeated element is refused in one line."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names:
        raise UnknownFxElementError("--chain is empty", f"name elements such as {DEFAULT_CHAIN}")
    for name in names:
        if name not in ELEMENTS:
            raise UnknownFxElementError(f"unknown chain element {name!r} in {text!r}",
                                        f"use elements from: {', '.join(ELEMENTS)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UnknownFxElementError(f"chain element {repeated[0]!r} is given twice in {text!r}",
                                    "name each element once")
    return Chain(tuple(ELEMENTS[name] for name in names))


def random_setting(chain: Chain, rng: np.random.Generator) -> np.ndarray:
    """A setting drawn uniformly in the normalised space (the training distribution)."""
    return rng.uniform(0.0, 1.0, chain.dims)


def mean_setting(chain: Chain) -> np.ndarray:
    """The centre of the training distribution: the best constant guess under squared error."""
    return np.full(chain.dims, 0.5)

"""Which engine serves a request, and how its output is finished.

``choose_engine`` is the one decision: ``library`` when asked for, or under
``auto`` when the library knows the label well (its best hit scores at
least ``WELL_COVERED``); synthesis otherwise; ``sao`` when asked for, with
the engine ``auto`` would pick as its sketch. Library hits are re-ordered by
the match model's reading of the take when there is one.

Models are loaded by whoever holds them: a ``Resident`` lives as long as
its process (the serve worker keeps one for its life; one ``sfx gen`` run
makes its own) and loads each model once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sfxcli.engines.base import Engine
from sfxcli.errors import EngineUnavailableError, LibraryError
from sfxcli.match import Query, Unavailable
from sfxcli.request import GenerateRequest

if TYPE_CHECKING:
    from sfxcli.engines.sao.model import LoadedModel
    from sfxcli.library.lookup import Hit
    from sfxcli.library.store import Library

MATCH_BLEND = 0.3  # how much the imitation match adds to a recording's label score
RERANK = 12  # label hits the imitation match re-orders
# how much of the follow's gain movement is let through across a recording's first 20 ms after each attack.
# Measured (bench/library.py): 0.5 halves how much the follow reshapes those 20 ms (median 2.3 to 1.1 dB), but
# the recordings' own quick transients it then keeps add onsets the take does not have (mean onset F1 on the
# shared imitations 0.788 to 0.766), so the follow goes through; attacks are spared by where they are placed.
LIBRARY_ATTACK_FOLLOW = 1.0


@dataclass
class Resident:
    """Models a process keeps loaded between requests. Only one Stable Audio Open model is held at a time."""

    _sao: dict[tuple[str, str | None], LoadedModel] = field(default_factory=dict)

    def sao_model(self, spec: str, adapter: Path | None = None) -> LoadedModel:
        from sfxcli.engines.sao.model import load_model

        key = (spec, str(Path(adapter).expanduser().resolve()) if adapter else None)
        if key not in self._sao:
            self._sao.clear()  # asking for another model frees the first
            self._sao[key] = load_model(spec, adapter)
        return self._sao[key]


@dataclass(frozen=True)
class EngineChoice:
    """The engine for one request and how its output is finished."""

    engine: Engine
    note: str  # a sentence for the user: which engine and why
    follow: float | None = None  # envelope-follow strength; None: the recipe's
    fx: tuple[str, ...] = ()  # default FX chains; empty: the recipe's
    follow_smoothing: int = 3  # frames the follow correction is smoothed over
    attack_follow: float = 1.0  # share of the follow's gain movement let through across the render's attacks
    library: Path | None = None  # the library folder the engine plays from, if any
    channels: int | None = None  # what this engine's results are by default; None: the recipe's


def choose_engine(request: GenerateRequest, imitation: tuple[np.ndarray, int], query: Query | Unavailable,
                  resident: Resident) -> EngineChoice:
    """The engine for this request. ``imitation`` is what results are compared with (mono samples, rate)."""
    if request.engine == "sao":
        return _sao(request, imitation, query, resident)
    if request.engine == "embedded":
        return _synthesis("engine embedded")
    return _library_or_synthesis(request, query)


def _synthesis(note: str) -> EngineChoice:
    from sfxcli.engines.embedded import EmbeddedEngine

    return EngineChoice(EmbeddedEngine(), note)


def _library_or_synthesis(request: GenerateRequest, query: Query | Unavailable) -> EngineChoice:
    from sfxcli.engines.library import LibraryEngine
    from sfxcli.library.lookup import WELL_COVERED, lookup
    from sfxcli.library.store import open_library

    where = "your library" if request.library else "the built-in library"
    try:
        library = open_library(request.library)
    except LibraryError as error:
        if request.engine == "library" or request.library is not None:
            raise
        # auto never fails for want of the built-in library: synthesis needs nothing
        return _synthesis(f"engine embedded: {where} is unavailable ({error.message})")
    hits = lookup(request.label, library.entries, library.vectors)
    best = hits[0] if hits else None
    if request.engine == "auto" and (best is None or best.score < WELL_COVERED):
        closest = f"closest {best.why} scores {best.score:.2f}" if best else "nothing matched"
        return _synthesis(f"engine embedded: {where} does not know '{request.label}' well ({closest})")
    if best is None:
        raise EngineUnavailableError(f"nothing in {where} ({library.root}) matches '{request.label}'",
                                     "use --engine embedded, or add recordings with that name to the library")
    if isinstance(query, Query):
        hits = _rerank(library, hits, query)
        best = hits[0]
    note = f"engine library: {len(library.entries)} recordings in {where}, best {best.why} (score {best.score:.2f})"
    # recordings carry their own space (only a rumble filter), and are held to the imitation's
    # level frame by frame, unsmoothed, so their own attacks cannot add onsets
    # recordings keep their stereo: a result is stereo when the best recording is
    return EngineChoice(LibraryEngine(library.root, hits, request.library_layers, request.library_pitch),
                        note, follow=1.0, fx=("clean",), follow_smoothing=1, attack_follow=LIBRARY_ATTACK_FOLLOW,
                        library=library.root, channels=2 if best.entry.channels >= 2 else 1)


def _rerank(library: Library, hits: list[Hit], query: Query) -> list[Hit]:
    """Re-order the best label hits by how well each recording matches this imitation called this label."""
    from sfxcli.library.sounds import library_features

    top = hits[:RERANK]
    rows = {e.path: i for i, e in enumerate(library.entries)}
    try:
        features, failed = library_features(library, query.features, query.model.encoders["sound"],
                                            only={rows[h.entry.path] for h in top})
        cosines = query.scores(features[[rows[h.entry.path] for h in top]])
    except EngineUnavailableError:
        return hits
    rescored = [replace(h, score=h.score + MATCH_BLEND * float(cos), why=f"{h.why}, imitation match {cos:+.2f}")
                for h, cos in zip(top, cosines, strict=True) if h.entry.path not in failed]
    return sorted(rescored, key=lambda h: -h.score) + hits[RERANK:] if rescored else hits


def _sao(request: GenerateRequest, imitation: tuple[np.ndarray, int], query: Query | Unavailable,
         resident: Resident) -> EngineChoice:
    from sfxcli.engines.sao.model import default_model
    from sfxcli.engines.sao.sampling import SaoEngine

    sketcher = choose_engine(replace(request, engine="auto"), imitation, query, resident)
    model = resident.sao_model(request.model or default_model(), request.adapter)
    engine = SaoEngine(model, request.label, sketcher.engine, imitation, request.generative_overrides())
    sketch = {"engine": f"sketches by the {sketcher.engine.name} engine", "imitation": "the imitation as sketch",
              "none": "no sketch"}[request.sketch] if request.sketch else f"the recipe's sketch ({sketcher.engine.name} engine)"
    note = f"engine sao: {model.describe()}, starting from {sketch}"
    # generated audio carries its own space: a rumble filter only, like library recordings
    return EngineChoice(engine, note, fx=("clean",), library=sketcher.library, channels=min(model.channels, 2))

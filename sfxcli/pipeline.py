"""``generate``: imitation + label -> finished files. Shared by the CLI and the bridge."""

from __future__ import annotations

import secrets
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sfxcli import __version__
from sfxcli.analysis import Curves, analyse, controls_from_curves, resample, stretch_controls
from sfxcli.audio import DEFAULT_MAX_SECONDS, Imitation, read_imitation
from sfxcli.engines import Engine, get_engine
from sfxcli.engines.library import PITCH_MODES
from sfxcli.errors import CancelledError, EngineUnavailableError, LibraryError, UsageError
from sfxcli.labels import LabelMatch, match_label
from sfxcli.output import FORMATS, Written, output_folder, safe_fx_name, write_result
from sfxcli.post import LevelConfig, PostConfig, finish
from sfxcli.presets import SKETCH_MODES, FxChain, Recipe, all_recipes, load_fx, load_recipe, recipe_names
from sfxcli.rank import Score, order, score, with_matches

MAX_VARIATIONS = 64
ENGINE_CHOICES = ("auto", "embedded", "library", "sao")
Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class GenerateRequest:
    imitation: Path
    label: str
    project: Path = Path(".")
    subfolder: str = "sfx"
    variations: int = 4
    candidates: int | None = None  # render this many and keep the best ``variations``
    seed: int | None = None
    preset: str | None = None  # a recipe name; None = chosen from the label
    fx: tuple[str, ...] | None = None  # FX chains; None = the recipe's own
    engine: str = "auto"  # auto: the library when it knows the label well, synthesis otherwise
    library: Path | None = None  # a folder of recordings; None = the library shipped with sfx
    library_layers: int = 1
    library_pitch: str = "varispeed"  # or "shift": pitch moves, speed stays
    sample_rate: int = 48000
    format: str = "wav"
    max_seconds: float = DEFAULT_MAX_SECONDS
    level: LevelConfig = field(default_factory=LevelConfig)
    plot: bool = False
    seconds: float | None = None  # stretch the performance to this length; None = the imitation's
    # the sao engine: a model spec (hub id, folder, "debug"; None = $SFX_SAO_MODEL or Stable Audio Open 1.0),
    # an optional controls adapter, and overrides of the recipe's [generative] table
    model: str | None = None
    adapter: Path | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    sketch: str | None = None
    sketch_noise: float | None = None

    def generative_overrides(self) -> dict[str, Any]:
        values = {"steps": self.steps, "cfg_scale": self.cfg_scale, "sketch": self.sketch,
                  "sketch_noise": self.sketch_noise}
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class Result:
    path: Path
    sidecar: Path
    seed: int
    score: Score


@dataclass(frozen=True)
class Generation:
    results: list[Result]
    recipe: str
    catid: str
    reason: str
    fallback: bool
    imitation: Imitation
    curves: Curves
    plot: Path | None = None
    engine: str = "embedded"


def level_config(peak_dbfs: float | None, lufs: float | None) -> LevelConfig:
    """Levelling from the user's --peak / --lufs (CLI) or peak / lufs (OSC) options."""
    if peak_dbfs is not None and lufs is not None:
        raise UsageError("use either peak or lufs, not both")
    if lufs is not None:
        if not -70.0 <= lufs <= 0.0:
            raise UsageError(f"lufs must be between -70 and 0, got {lufs}")
        return LevelConfig(mode="lufs", lufs=lufs)
    if peak_dbfs is not None and not -60.0 <= peak_dbfs <= 0.0:
        raise UsageError(f"peak must be between -60 and 0 dBFS, got {peak_dbfs}")
    return LevelConfig(peak_dbfs=-1.0 if peak_dbfs is None else peak_dbfs)


def fx_option(text: str | None) -> tuple[str, ...] | None:
    """A comma-separated list of FX chains; None keeps the recipe's, 'none' means dry."""
    if text is None:
        return None
    return tuple(name.strip() for name in text.split(",") if name.strip() and name.strip() != "none")


def validate(request: GenerateRequest) -> None:
    if not 1 <= request.variations <= MAX_VARIATIONS:
        raise UsageError(f"variations must be 1..{MAX_VARIATIONS}, got {request.variations}")
    if request.candidates is not None and not request.variations <= request.candidates <= 4 * MAX_VARIATIONS:
        raise UsageError(f"candidates must be at least the number of variations ({request.variations}), got {request.candidates}")
    if not 8000 <= request.sample_rate <= 192000:
        raise UsageError(f"sample rate must be 8000..192000 Hz, got {request.sample_rate}")
    if request.format not in FORMATS:
        raise UsageError(f"unknown format {request.format!r}; use one of {', '.join(FORMATS)}")
    if request.format == "mp3" and request.sample_rate not in (32000, 44100, 48000):
        raise UsageError(f"mp3 needs a sample rate of 32000, 44100 or 48000 Hz, got {request.sample_rate}")
    if request.engine not in ENGINE_CHOICES:
        raise UsageError(f"unknown engine {request.engine!r}; use one of {', '.join(ENGINE_CHOICES)}")
    if request.library_pitch not in PITCH_MODES:
        raise UsageError(f"library pitch must be {' or '.join(PITCH_MODES)}, got {request.library_pitch!r}")
    if request.library_layers not in (1, 2):
        raise UsageError(f"library layers must be 1 or 2, got {request.library_layers}")
    if request.seed is not None and not 0 <= request.seed < 2**63:
        raise UsageError(f"seed must be 0..2^63-1, got {request.seed}")
    if not request.label.strip() or "\x00" in request.label:
        raise UsageError("label is empty; describe the sound, for example \"door creak\"")
    if len(request.label) > 500:
        raise UsageError(f"label is {len(request.label)} characters long; keep it under 500")
    if request.max_seconds <= 0:
        raise UsageError(f"--max-seconds must be positive, got {request.max_seconds}")
    if request.seconds is not None and not 0.1 <= request.seconds <= 600:
        raise UsageError(f"seconds must be 0.1..600, got {request.seconds}")
    if request.sketch is not None and request.sketch not in SKETCH_MODES:
        raise UsageError(f"sketch must be one of {', '.join(SKETCH_MODES)}, got {request.sketch!r}")
    if request.steps is not None and not 1 <= request.steps <= 1000:
        raise UsageError(f"steps must be 1..1000, got {request.steps}")
    if request.cfg_scale is not None and not 0 < request.cfg_scale <= 30:
        raise UsageError(f"cfg must be above 0 and at most 30, got {request.cfg_scale}")
    if request.sketch_noise is not None and not 0.01 <= request.sketch_noise <= 500:
        raise UsageError(f"sketch noise must be 0.01..500, got {request.sketch_noise}")
    if request.adapter is not None and not request.adapter.expanduser().is_file():
        raise UsageError(f"no controls adapter file at {request.adapter}")
    if request.preset is not None and request.preset not in recipe_names():
        raise UsageError(f"no recipe named {request.preset!r}; run `sfx presets list`")


def choose_recipe(request: GenerateRequest) -> LabelMatch:
    match = match_label(request.label, all_recipes())
    if request.preset is None:
        return match
    return LabelMatch(request.preset, match.catid if match.ucs_category else load_recipe(request.preset).catid,
                      f"recipe '{request.preset}' chosen with --preset", match.ucs_category, False)


def generate(request: GenerateRequest, progress: Progress | None = None,
             cancelled: Callable[[], bool] | None = None, engine: Engine | None = None) -> Generation:
    """Read, analyse, render candidates, finish, rank, write. Raises ``SfxError``.

    ``cancelled`` is polled before each candidate; once files are being
    written the job runs to its end, so a cancel never leaves half a set.
    ``engine`` lets a resident process reuse an engine it has loaded.
    """
    report = progress or (lambda message, fraction: None)
    stop = cancelled or (lambda: False)
    validate(request)
    folder = output_folder(request.project, request.subfolder)
    imitation = read_imitation(request.imitation, request.max_seconds)
    curves = analyse(imitation.samples, imitation.sample_rate)
    controls = controls_from_curves(curves)
    # what the results are compared with: the imitation, or the imitation spread over --seconds
    reference, reference_onsets = imitation.samples, curves.onsets_seconds
    if request.seconds is not None:
        controls = stretch_controls(controls, request.seconds)
        factor = request.seconds / imitation.duration_seconds
        reference = resample(imitation.samples, imitation.sample_rate, int(round(imitation.sample_rate * factor)))
        reference_onsets = curves.onsets_seconds * factor
    target_seconds = controls.duration_seconds if request.seconds is not None else imitation.duration_seconds
    match = choose_recipe(request)
    recipe = load_recipe(match.recipe)
    matching = query_matcher(request.label, reference, imitation.sample_rate)  # encoded once, used twice below
    choice = _choose_engine(request, engine, (reference, imitation.sample_rate), matching)
    engine = choice.engine
    follow = recipe.follow if choice.follow is None else choice.follow
    chains = [load_fx(name) for name in (choice.fx or recipe.fx if request.fx is None else request.fx)]
    report(f"{match.reason}; {choice.note}; writing {match.catid} files", 0.05)

    base_seed = request.seed if request.seed is not None else secrets.randbits(31)
    n_candidates = request.candidates or request.variations
    rendered: list[tuple[int, np.ndarray, dict[str, Any], dict[str, Any], Score]] = []
    duration = target_seconds + recipe.tail_seconds
    post_config = PostConfig(level=request.level)
    seeds = [base_seed + i for i in range(n_candidates)]
    for i, (seed, render) in enumerate(_renders(engine, controls, recipe, seeds, request.sample_rate, duration, stop,
                                                report)):
        audio, post_info = finish(render.audio, request.sample_rate, chains, controls.gain, follow,
                                  target_seconds, recipe.tail_seconds, post_config,
                                  follow_smoothing=choice.follow_smoothing)
        result_score = score(reference, imitation.sample_rate, reference_onsets, audio, request.sample_rate)
        rendered.append((seed, audio, render.params, post_info, result_score))
        report(f"rendered candidate {i + 1}/{n_candidates}", 0.1 + 0.7 * (i + 1) / n_candidates)

    matched, ranked_by = with_matches([item[4] for item in rendered], matching, [item[1] for item in rendered],
                                      request.sample_rate)
    rendered = [(*item[:4], s) for item, s in zip(rendered, matched, strict=True)]
    ranking = order(matched)[: request.variations]
    batched = hasattr(engine, "render_batch")
    fx_name = safe_fx_name(request.label, recipe.name)
    results: list[Result] = []
    for rank, index in enumerate(ranking, start=1):
        seed, audio, params, post_info, result_score = rendered[index]
        sidecar = {
            "sfx_version": __version__,
            "engine": engine.name,
            "label": request.label,
            "recipe": recipe.name,
            "recipe_file": Path(recipe.source_file).name,
            "preset": request.preset,
            "fx": [chain.name for chain in chains],
            "label_match": match.reason,
            "engine_choice": choice.note,
            "catid": match.catid,
            "seed": seed,
            "run_seed": base_seed,
            "rank": rank,
            "candidates": n_candidates,
            "ranking": ranked_by,
            "score": result_score.as_dict(),
            "imitation": {
                "path": str(Path(imitation.path).resolve()),
                "sha256": imitation.sha256,
                "sample_rate": imitation.sample_rate,
                "channels": imitation.channels,
                "seconds": round(imitation.duration_seconds, 4),
            },
            "output": {"format": request.format, "sample_rate": request.sample_rate, "channels": 1,
                       "stretched_to_seconds": request.seconds, **post_info},
            "parameters": {**params, "recipe": recipe_parameters(recipe),
                           "fx_chains": {c.name: [asdict(e) for e in c.effects] for c in chains}},
            "level": asdict(request.level),
            "reproduce": reproduce_command(request, imitation, recipe.name, engine.name,
                                           base_seed if batched else seed, chains),
            **({"reproduce_note": f"model engines generate a batch from one seed: this command remakes all "
                                  f"{n_candidates} candidates (same device and precision) and this file is "
                                  f"batch item {params.get('batch_index')}"} if batched else {}),
            "python": sys.version.split()[0],
        }
        written: Written = write_result(folder, match.catid, fx_name, audio, request.sample_rate, request.format, sidecar)
        results.append(Result(written.audio_path, written.sidecar_path, seed, result_score))
        report(f"wrote {written.audio_path.name}", 0.8 + 0.2 * rank / len(ranking))

    plot_path = None
    if request.plot:
        from sfxcli.plot import plot_comparison

        sources = [[Path(rendered[i][2]["library"]) / rec["path"] for rec in rendered[i][2].get("recordings", [])]
                   for i in ranking]
        plot_path = plot_comparison(imitation, curves, [(r.path, rendered[i][1]) for r, i in zip(results, ranking)],
                                    request.sample_rate, folder, sources,
                                    [(r.score.loudness_r, r.score.onset_f1) for r in results])
    return Generation(results, recipe.name, match.catid, match.reason, match.fallback, imitation, curves, plot_path,
                      engine.name)


def _renders(engine: Engine, controls: Any, recipe: Recipe, seeds: list[int], sample_rate: int, duration: float,
             stop: Callable[[], bool], report: Progress) -> Any:
    """(seed, render) per candidate; model engines render a batch at a time.

    Cancel is checked between renders and, for model engines, after every
    sampling step, which also reports progress.
    """
    batch = getattr(engine, "render_batch", None)
    size = getattr(engine, "max_batch", 1) if batch is not None else 1
    for start in range(0, len(seeds), size):
        if stop():
            raise CancelledError("cancelled before the results were written; nothing was saved")
        chunk = seeds[start:start + size]
        if batch is None:
            renders = [engine.render(controls, recipe, chunk[0], sample_rate, duration)]
        else:
            def step(done: int, steps: int, start: int = start, count: int = len(chunk)) -> None:
                if stop():
                    raise CancelledError("cancelled before the results were written; nothing was saved")
                fraction = (start + count * done / steps) / len(seeds)
                report(f"sampling step {done}/{steps} of candidates {start + 1}-{start + count}", 0.1 + 0.7 * fraction)

            renders = batch(controls, recipe, chunk, sample_rate, duration, on_step=step)
        yield from zip(chunk, renders)


@dataclass(frozen=True)
class EngineChoice:
    """The engine for one request and how its output is finished."""

    engine: Engine
    note: str  # a sentence for the user: which engine and why
    follow: float | None = None  # envelope-follow strength; None: the recipe's
    fx: tuple[str, ...] = ()  # default FX chains; empty: the recipe's
    follow_smoothing: int = 3  # frames the follow correction is smoothed over


def _synthesis(loaded: Engine | None, note: str) -> EngineChoice:
    engine = loaded if loaded is not None and loaded.name == "embedded" else get_engine("embedded")
    return EngineChoice(engine, note)


def query_matcher(label: str, imitation: np.ndarray, sample_rate: int) -> Any:
    """The match model with this request's query encoded (a ``similarity.Matcher``), or why there is none."""
    from sfxcli.similarity import matcher

    try:
        return matcher(label, (imitation, sample_rate))
    except EngineUnavailableError as error:
        return error.message


def _choose_engine(request: GenerateRequest, loaded: Engine | None,
                   imitation: tuple[np.ndarray, int] | None = None, matching: Any = None) -> EngineChoice:
    """The engine for this request: the library when asked for or when it knows the label, else synthesis.

    ``sao`` loads (or reuses) a Stable Audio Open model and sketches with the
    engine ``auto`` would pick.
    """
    if request.engine == "sao":
        return _sao_choice(request, loaded, imitation, matching)
    if request.engine not in ("auto", "library"):
        return _synthesis(loaded, "engine embedded")
    from sfxcli.engines.library import LibraryEngine
    from sfxcli.library.match import WELL_COVERED, rank
    from sfxcli.library.store import open_library

    where = "your library" if request.library else "the built-in library"
    try:
        library = open_library(request.library)
    except LibraryError as error:
        if request.engine == "library" or request.library is not None:
            raise
        # auto never fails for want of the built-in library: synthesis needs nothing
        return _synthesis(loaded, f"engine embedded: {where} is unavailable ({error.message})")
    candidates = rank(request.label, library.entries, library.vectors)
    best = candidates[0] if candidates else None
    if request.engine == "auto" and (best is None or best.score < WELL_COVERED):
        closest = f"closest {best.why} scores {best.score:.2f}" if best else "nothing matched"
        return _synthesis(loaded, f"engine embedded: {where} does not know '{request.label}' well ({closest})")
    if best is None:
        raise EngineUnavailableError(f"nothing in {where} ({library.root}) matches '{request.label}'",
                                     "use --engine embedded, or add recordings with that name to the library")
    if matching is not None and not isinstance(matching, str):
        candidates = _rerank_by_match(library, candidates, matching)
        best = candidates[0]
    note = f"engine library: {len(library.entries)} recordings in {where}, best {best.why} (score {best.score:.2f})"
    # recordings carry their own space (only a rumble filter), and are held to the imitation's
    # level frame by frame, unsmoothed, so their own attacks cannot add onsets
    return EngineChoice(LibraryEngine(library.root, candidates, request.library_layers, request.library_pitch),
                        note, follow=1.0, fx=("clean",), follow_smoothing=1)


MATCH_BLEND = 0.3  # how much the imitation match adds to a recording's label score
RERANK = 12  # label candidates the imitation match re-orders


def _rerank_by_match(library: Any, candidates: list[Any], matching: Any) -> list[Any]:
    """Re-order the best label matches by how well each recording matches this imitation called this label."""
    from dataclasses import replace

    from sfxcli.library.sounds import library_features

    top = candidates[:RERANK]
    rows = {e.path: i for i, e in enumerate(library.entries)}
    try:
        features, failed = library_features(library, matching.features, matching.model.encoders["sound"],
                                            only={rows[c.entry.path] for c in top})
        cosines = matching.scores(features[[rows[c.entry.path] for c in top]])
    except EngineUnavailableError:
        return candidates
    rescored = [replace(c, score=c.score + MATCH_BLEND * float(cos), why=f"{c.why}, imitation match {cos:+.2f}")
                for c, cos in zip(top, cosines, strict=True) if c.entry.path not in failed]
    return sorted(rescored, key=lambda c: -c.score) + candidates[RERANK:] if rescored else candidates


def _sao_choice(request: GenerateRequest, loaded: Engine | None,
                imitation: tuple[np.ndarray, int] | None, matching: Any) -> EngineChoice:
    from dataclasses import replace

    from sfxcli.engines.sao import SaoEngine, default_model, resident_model

    sketcher = _choose_engine(replace(request, engine="auto"), loaded, imitation, matching)
    model = resident_model(request.model or default_model(), request.adapter)
    engine = SaoEngine(model, request.label, sketcher.engine, imitation, request.generative_overrides())
    sketch = {"engine": f"sketches by the {sketcher.engine.name} engine", "imitation": "the imitation as sketch",
              "none": "no sketch"}[request.sketch] if request.sketch else f"the recipe's sketch ({sketcher.engine.name} engine)"
    note = f"engine sao: {model.describe()}, starting from {sketch}"
    # generated audio carries its own space: a rumble filter only, like library recordings
    return EngineChoice(engine, note, fx=("clean",))


def recipe_parameters(recipe: Recipe) -> dict[str, Any]:
    """The resolved recipe as plain data, so a sidecar survives later preset edits."""
    data = asdict(recipe)
    data["layers"] = [{"type": type(layer).__name__, **asdict(layer)} for layer in recipe.layers]
    data.pop("source_file", None)
    return data


def reproduce_command(request: GenerateRequest, imitation: Imitation, recipe: str, engine: str, seed: int,
                      chains: list[FxChain]) -> str:
    """The `sfx gen` line that makes this one file again, bit for bit."""
    import shlex

    batch = ["-n", str(request.variations)] + (["--candidates", str(request.candidates)] if request.candidates else [])
    args = ["sfx", "gen", str(Path(imitation.path).resolve()), request.label, "--preset", recipe, "--seed", str(seed),
            *(batch if engine == "sao" else ["-n", "1"]), "--engine", engine, "--format", request.format,
            "--sample-rate", str(request.sample_rate)]
    if engine == "sao":
        from sfxcli.engines.sao import default_model, parse_model_spec

        args += ["--model", parse_model_spec(request.model or default_model()).location]
        if request.adapter is not None:
            args += ["--adapter", str(request.adapter.expanduser().resolve())]
        flags = {"steps": "--steps", "cfg_scale": "--cfg", "sketch": "--sketch", "sketch_noise": "--sketch-noise"}
        for key, value in request.generative_overrides().items():
            args += [flags[key], str(value)]
    if engine in ("library", "sao"):  # the sao engine sketches with the library
        if request.library is not None:
            args += ["--library", str(request.library.expanduser().resolve())]
        if request.library_layers != 1:
            args += ["--library-layers", str(request.library_layers)]
        if request.library_pitch != "varispeed":
            args += ["--library-pitch", request.library_pitch]
    if request.fx is not None:
        args += ["--fx", ",".join(chain.name for chain in chains) or "none"]
    if request.seconds is not None:
        args += ["--seconds", f"{request.seconds:g}"]
    if request.level.mode == "lufs":
        args += ["--lufs", f"{request.level.lufs:g}"]
    else:
        args += ["--peak", f"{request.level.peak_dbfs:g}"]
    return shlex.join(args)

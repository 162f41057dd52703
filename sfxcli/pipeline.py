"""``generate``: imitation + label -> finished files. Shared by the CLI and the bridge.

The stages, one module each: read and check the take (``audio``), analyse
it (``analysis``), choose the recipe (``labels``) and the engine
(``engines.choice``), render candidates, finish them (``post``), rank them
(``rank``, with the match model from ``match``) and write the best
(``output``). The request itself is defined in ``request``.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
from datetime import datetime
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from sfxcli import __version__
from sfxcli.analysis import Controls, Curves, analyse, controls_from_curves, resample, stretch_controls
from sfxcli.audio import Imitation, Section, read_imitation
from sfxcli.engines.base import BatchEngine, Engine, Render
from sfxcli.engines.choice import EngineChoice, Resident, choose_engine
from sfxcli.dsp import mono_sum
from sfxcli.errors import CancelledError, OutputError
from sfxcli.labels import RecipeChoice, recipe_for
from sfxcli.match import encode_query
from sfxcli.metadata import Tags
from sfxcli.output import Written, clean_part, output_folder, safe_fx_name, ucs_stem, write_result
from sfxcli.engines.sao.sampling import SaoEngine
from sfxcli.post import Finish, LevelConfig, PostConfig, finish, level_config
from sfxcli.presets import FxChain, Recipe, all_recipes, load_fx, load_recipe
from sfxcli.rank import Score, order, score, with_matches
from sfxcli.request import GenerateRequest, reproduce_command, validate

Progress = Callable[[str, float], None]


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


@dataclass(frozen=True)
class _Run:
    """What one request decided, shared by every file it writes."""

    recipe: Recipe
    chains: list[FxChain]
    reading: RecipeChoice  # the label's recipe and UCS category
    choice: EngineChoice
    imitation: Imitation
    base_seed: int
    candidates: int
    ranked_by: str
    level: LevelConfig
    created: str  # ISO 8601, the files' origination date and time
    source_id: str  # UCS SourceID


@dataclass(frozen=True)
class Candidate:
    """One rendered and finished candidate, before ranking."""

    seed: int
    audio: np.ndarray
    params: dict[str, Any]  # what the engine drew
    post: dict[str, Any]  # what finishing measured and applied
    score: Score


def choose_recipe(request: GenerateRequest) -> RecipeChoice:
    chosen = recipe_for(request.label, all_recipes())
    if request.preset is None:
        return chosen
    return RecipeChoice(request.preset, chosen.catid if chosen.ucs_category else load_recipe(request.preset).catid,
                        f"recipe '{request.preset}' chosen with --preset", chosen.ucs_category, False)


def generate(request: GenerateRequest, progress: Progress | None = None,
             cancelled: Callable[[], bool] | None = None, resident: Resident | None = None,
             roots: tuple[Path, ...] = ()) -> Generation:
    """Read, analyse, render candidates, finish, rank, write. Raises ``SfxError``.

    ``cancelled`` is polled before each candidate; once files are being
    written the job runs to its end, so a cancel never leaves half a set.
    ``resident`` holds the models a long-lived process has loaded (the serve
    worker's); without one, models are loaded for this call. ``roots``: the
    folders the project must lie in (a server's), checked again at write time.
    """
    report = progress or (lambda message, fraction: None)
    stop = cancelled or (lambda: False)
    validate(request)
    folder = output_folder(request.project, request.subfolder, roots)
    section = Section(request.offset, request.length, request.reverse)
    imitation = read_imitation(request.imitation, request.max_seconds, section)
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
    reading = choose_recipe(request)
    recipe = load_recipe(reading.recipe)
    query = encode_query(request.label, (reference, imitation.sample_rate))  # encoded once, used twice below
    choice = choose_engine(request, (reference, imitation.sample_rate), query, resident or Resident())
    chains = [load_fx(name) for name in (choice.fx or recipe.fx if request.fx is None else request.fx)]
    if request.fx_like is not None:  # the reference's processing in place of the recipe's own
        from sfxcli.fxmatch.match import chain_like

        chains = (chains if request.fx is not None else []) + [chain_like(request.fx_like)]
    report(f"{reading.reason}; {choice.note}; writing {reading.catid} files", 0.05)

    base_seed = request.seed if request.seed is not None else secrets.randbits(31)
    n_candidates = request.candidates or request.variations
    level = level_config(request.peak, request.lufs)
    plan = Finish(chains, controls.gain, recipe.follow if choice.follow is None else choice.follow, target_seconds,
                  PostConfig(level=level), choice.follow_smoothing, choice.attack_follow)
    seeds = [base_seed + i for i in range(n_candidates)]
    channels = request.channels or choice.channels or recipe.channels
    candidates: list[Candidate] = []
    renders = _renders(choice.engine, controls, recipe, seeds, request.sample_rate,
                       target_seconds + recipe.tail_seconds, stop, report, channels)
    for i, (seed, render) in enumerate(renders):
        audio, post_info = finish(render.audio, request.sample_rate, plan, render.attacks_seconds)
        result_score = score(reference, imitation.sample_rate, reference_onsets, mono_sum(audio), request.sample_rate)
        candidates.append(Candidate(seed, audio, render.params, post_info, result_score))
        report(f"rendered candidate {i + 1}/{n_candidates}", 0.1 + 0.7 * (i + 1) / n_candidates)

    matched, ranked_by = with_matches([c.score for c in candidates], query, [mono_sum(c.audio) for c in candidates],
                                      request.sample_rate)
    candidates = [replace(c, score=s) for c, s in zip(candidates, matched, strict=True)]
    ranking = order(matched)[: request.variations]
    engine = choice.engine
    batched = isinstance(engine, BatchEngine)
    created = request.created or datetime.now().replace(microsecond=0).isoformat()
    source_id = request.source or clean_part(folder.project.name, "project", 32)
    run = _Run(recipe, chains, reading, choice, imitation, base_seed, n_candidates, ranked_by, level, created,
               source_id)
    stem = ucs_stem(reading.catid, safe_fx_name(request.label, recipe.name), request.creator, source_id)
    results: list[Result] = []
    for rank, index in enumerate(ranking, start=1):
        candidate = candidates[index]
        sidecar = _sidecar(request, candidate, rank, batched, run)
        try:
            written: Written = write_result(folder, stem, candidate.audio, request.sample_rate, request.format,
                                            sidecar, _tags(request, candidate, run, sidecar["reproduce"]))
        except OutputError as error:
            if results:
                raise OutputError(f"{error.message}; {len(results)} of {len(ranking)} results were written before it "
                                  f"({', '.join(r.path.name for r in results)})", error.hint) from None
            raise
        results.append(Result(written.audio_path, written.sidecar_path, candidate.seed, candidate.score))
        report(f"wrote {written.audio_path.name}", 0.8 + 0.2 * rank / len(ranking))

    plot_path = None
    if request.plot:
        from sfxcli.plot import plot_comparison

        chosen = [candidates[i] for i in ranking]
        sources = [[Path(c.params["library"]) / rec["path"] for rec in c.params.get("recordings", [])] for c in chosen]
        plot_path = plot_comparison(imitation, curves, [(r.path, mono_sum(c.audio)) for r, c in zip(results, chosen)],
                                    request.sample_rate, folder, sources,
                                    [(r.score.loudness_r, r.score.onset_f1) for r in results])
    return Generation(results, recipe.name, reading.catid, reading.reason, reading.fallback, imitation, curves, plot_path,
                      engine.name)


def _sidecar(request: GenerateRequest, candidate: Candidate, rank: int, batched: bool, run: _Run) -> dict[str, Any]:
    """Everything needed to make this file again, and why it is what it is."""
    recipe, chains, imitation = run.recipe, run.chains, run.imitation
    engine = run.choice.engine.name
    params = candidate.params
    return {
        "sfx_version": __version__,
        "engine": engine,
        "label": request.label,
        "recipe": recipe.name,
        "recipe_file": Path(recipe.source_file).name,
        "preset": request.preset,
        "fx": [chain.name for chain in chains],
        "label_match": run.reading.reason,
        "engine_choice": run.choice.note,
        "catid": run.reading.catid,
        "seed": candidate.seed,
        "run_seed": run.base_seed,
        "rank": rank,
        "candidates": run.candidates,
        "ranking": run.ranked_by,
        "score": candidate.score.as_dict(),
        "imitation": {
            "path": str(Path(imitation.path).resolve()),
            "sha256": imitation.sha256,
            "sample_rate": imitation.sample_rate,
            "channels": imitation.channels,
            "seconds": round(imitation.duration_seconds, 4),
            "section": {"offset_seconds": request.offset, "length_seconds": request.length,
                        "reverse": request.reverse},
        },
        "output": {"format": request.format, "sample_rate": request.sample_rate,
                   "channels": 1 if candidate.audio.ndim == 1 else int(candidate.audio.shape[1]),
                   "time_reference_samples": int(round(request.position * request.sample_rate)),
                   "created": run.created, "creator_id": request.creator, "source_id": run.source_id,
                   "stretched_to_seconds": request.seconds, **candidate.post},
        "parameters": {**params, "recipe": recipe_parameters(recipe),
                       "fx_chains": {c.name: [asdict(e) for e in c.effects] for c in chains}},
        "level": asdict(run.level),
        "reproduce": reproduce_command(request, engine, _replay(request, candidate, batched, run)),
        **({"reproduce_note": f"model engines generate a batch from one seed: this command remakes all "
                              f"{run.candidates} candidates (same device and precision) and this file is "
                              f"batch item {params.get('batch_index')}"} if batched else {}),
        "python": sys.version.split()[0],
    }


def _tags(request: GenerateRequest, candidate: Candidate, run: _Run, reproduce: str) -> Tags:
    """The file's embedded metadata: UCS fields, BWF origination and timeline position, ASWG credits."""
    from sfxcli.labels import fold, ucs_categories
    from sfxcli.post import integrated_lufs, true_peak_dbfs

    catid = run.reading.catid
    ucs = run.reading.ucs_category or next((c for c in ucs_categories() if c.catid == catid), None)
    engine = run.choice.engine.name
    keywords = tuple(dict.fromkeys([*fold(request.label).split(), *run.recipe.keywords[:6],
                                    *(fold(ucs.subcategory).split() if ucs else [])]))
    recordings = candidate.params.get("recordings", [])
    rights = "; ".join(f"{r['label']}" + (f" by {r['author']}" if r.get("author") else "")
                       + (f" ({r['licence']})" if r.get("licence") else "") for r in recordings)
    channels = 1 if candidate.audio.ndim == 1 else int(candidate.audio.shape[1])
    reference = hashlib.sha256(f"{run.imitation.sha256}|{request.label}|{engine}|{candidate.seed}|{run.created}"
                               .encode()).hexdigest()
    return Tags(
        fx_name=safe_fx_name(request.label, run.recipe.name), catid=catid,
        category=ucs.category if ucs else "", subcategory=ucs.subcategory if ucs else "",
        description=f"{request.label} (sfx {engine} engine, recipe {run.recipe.name})", keywords=keywords,
        creator_id=request.creator, source_id=run.source_id, designer=request.designer or "",
        library=run.source_id, notes=f"engine {engine}, recipe {run.recipe.name}, seed {candidate.seed}; "
                                     f"reproduce: {reproduce}",
        originator_reference=f"SFX{reference[:29].upper()}", date=run.created[:10], time=run.created[11:19],
        time_reference=int(round(request.position * request.sample_rate)), sample_rate=request.sample_rate,
        channels=channels, bits=24 if request.format in ("wav", "flac") else None, engine=engine,
        fx_chains=tuple(chain.name for chain in run.chains), usage_rights=rights,
        loudness_lufs=_finite(integrated_lufs(candidate.audio, request.sample_rate)[0]),
        true_peak_dbfs=_finite(true_peak_dbfs(candidate.audio, request.sample_rate)))


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _replay(request: GenerateRequest, candidate: Candidate, batched: bool, run: _Run) -> dict[str, Any]:
    """What this run decided, for the reproduce command: one file, or for model engines the whole batch."""
    choice = run.choice
    decided: dict[str, Any] = {
        "engine": choice.engine.name,
        "preset": run.recipe.name,
        "seed": run.base_seed if batched else candidate.seed,
        "variations": request.variations if batched else 1,
        "candidates": request.candidates if batched else None,
        "fx": tuple(chain.name for chain in run.chains) if request.fx is not None else None,
        "peak": None if request.lufs is not None else run.level.peak_dbfs,
        "created": run.created,
        "source": run.source_id,
        "channels": 1 if candidate.audio.ndim == 1 else int(candidate.audio.shape[1]),
        "library": choice.library.expanduser().resolve() if request.library is not None and choice.library else None,
    }
    if isinstance(choice.engine, SaoEngine):
        decided["model"] = choice.engine.loaded.source.location
        decided["adapter"] = request.adapter.expanduser().resolve() if request.adapter is not None else None
    return decided


def _renders(engine: Engine, controls: Controls, recipe: Recipe, seeds: list[int], sample_rate: int,
             duration: float, stop: Callable[[], bool], report: Progress,
             channels: int = 1) -> Iterator[tuple[int, Render]]:
    """(seed, render) per candidate; model engines render a batch at a time.

    Cancel is checked between renders and, for model engines, after every
    sampling step, which also reports progress.
    """
    size = engine.max_batch if isinstance(engine, BatchEngine) else 1
    for start in range(0, len(seeds), size):
        if stop():
            raise CancelledError("cancelled before the results were written; nothing was saved")
        chunk = seeds[start:start + size]
        if not isinstance(engine, BatchEngine):
            renders = [engine.render(controls, recipe, chunk[0], sample_rate, duration, channels=channels)]
        else:
            def step(done: int, steps: int, start: int = start, count: int = len(chunk)) -> None:
                if stop():
                    raise CancelledError("cancelled before the results were written; nothing was saved")
                fraction = (start + count * done / steps) / len(seeds)
                report(f"sampling step {done}/{steps} of candidates {start + 1}-{start + count}", 0.1 + 0.7 * fraction)

            renders = engine.render_batch(controls, recipe, chunk, sample_rate, duration, on_step=step,
                                          channels=channels)
        yield from zip(chunk, renders)


def recipe_parameters(recipe: Recipe) -> dict[str, Any]:
    """The resolved recipe as plain data, so a sidecar survives later preset edits."""
    data = asdict(recipe)
    data["layers"] = [{"type": type(layer).__name__, **asdict(layer)} for layer in recipe.layers]
    data.pop("source_file", None)
    return data

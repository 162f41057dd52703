"""The search baseline: differential evolution over a chain's normalised setting, minimising the audio distance.

The objective is the estimator's own audio loss: the level-matched
multi-resolution STFT distance between the dry sound through a setting and
the reference. scipy's ``differential_evolution`` (best1bin, Latin-hypercube
start, no gradient polish: the chain is not differentiable) explores [0, 1]^d;
``budget`` caps the chain renders. It needs the dry sound: without one there
is nothing to render.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from sfxcli.fxmatch.chain import Chain
from sfxcli.fxmatch.distance import stft_distance
from sfxcli.match.features import RATE


@dataclass(frozen=True)
class SearchConfig:
    budget: int = 3000  # chain renders at most
    population: int = 10  # per parameter (scipy's popsize)
    seed: int = 0


@dataclass(frozen=True)
class SearchResult:
    setting: np.ndarray
    distance: float
    renders: int
    trace: tuple[float, ...] = ()  # the best distance so far after each render


def search(chain: Chain, dry: np.ndarray, reference: np.ndarray, config: SearchConfig = SearchConfig(),
           start: np.ndarray | None = None, progress: Callable[[float], None] | None = None) -> SearchResult:
    """The setting whose render of ``dry`` is closest to ``reference`` (both mono at RATE, aligned)."""
    from scipy.optimize import differential_evolution

    n = max(len(dry), len(reference))
    dry = np.pad(np.asarray(dry, dtype=np.float64), (0, n - len(dry)))
    reference = np.pad(np.asarray(reference, dtype=np.float64), (0, n - len(reference)))
    renders = 0
    best = (np.inf, np.full(chain.dims, 0.5))
    trace: list[float] = []

    def objective(u: np.ndarray) -> float:
        nonlocal renders, best
        renders += 1
        distance = stft_distance(chain.render(dry, RATE, u), reference)
        if distance < best[0]:
            best = (distance, np.array(u))
        trace.append(best[0])
        return distance

    population = config.population * chain.dims
    generations = max(1, config.budget // population - 1)

    def callback(*_: object, **__: object) -> bool:
        if progress is not None:
            progress(min(renders / config.budget, 1.0))
        return renders >= config.budget

    initial = "latinhypercube"
    if start is not None:  # seed the population with a known good setting (e.g. the estimator's)
        rng = np.random.default_rng(config.seed)
        initial = rng.uniform(0, 1, (population, chain.dims))
        initial[0] = np.clip(start, 0, 1)
    differential_evolution(objective, [(0.0, 1.0)] * chain.dims, popsize=config.population, maxiter=generations,
                           init=initial, seed=config.seed, polish=False, tol=1e-6, callback=callback,
                           updating="immediate")
    return SearchResult(best[1], float(best[0]), renders, tuple(trace))


def refine(chain: Chain, dry: np.ndarray, reference: np.ndarray, start: np.ndarray, renders: int,
           seed: int = 0, step: float = 0.08) -> SearchResult:
    """A short local polish of a setting (the estimator's, say): a (1+1) evolution strategy whose step
    grows on success and shrinks on failure (the one-fifth rule), ``renders`` chain runs in all."""
    rng = np.random.default_rng(seed)
    n = max(len(dry), len(reference))
    dry = np.pad(np.asarray(dry, dtype=np.float64), (0, n - len(dry)))
    reference = np.pad(np.asarray(reference, dtype=np.float64), (0, n - len(reference)))
    best = np.clip(np.asarray(start, dtype=np.float64), 0, 1)
    best_distance = stft_distance(chain.render(dry, RATE, best), reference)
    trace = [best_distance]
    for _ in range(renders - 1):
        candidate = np.clip(best + step * rng.standard_normal(chain.dims), 0, 1)
        distance = stft_distance(chain.render(dry, RATE, candidate), reference)
        if distance < best_distance:
            best, best_distance, step = candidate, distance, min(step * 1.5, 0.5)
        else:
            step = max(step * 1.5 ** -0.25, 0.005)
        trace.append(best_distance)
    return SearchResult(best, float(best_distance), renders, tuple(trace))

"""Choosing a match model's options on the few real imitations there are, without fooling oneself.

The real imitations are far too few to train on, and too few to pick options
on and then quote the pick's figure: the best of many options looks better
on the takes it was picked on than it will on the next take. So options are
picked by leave-one-out: for each real imitation, the option that does best
on all the *other* imitations is chosen, and only its figure on the one held
out is kept. The mean of those held-out figures is what the selection
procedure is worth on a take it has not seen (the out-of-fold figure); the
option best on all of them is the one to ship.

Pure functions on tables of reciprocal ranks: ``table[option, item]``.
"""

from __future__ import annotations

import numpy as np


def reciprocal_rank(scores: np.ndarray, target: int) -> float:
    """1 / rank of ``target`` among ``scores`` (higher is better; ties count against the target)."""
    return 1.0 / float(1 + np.sum(scores > scores[target]))


def objective(imitation: np.ndarray, fused: np.ndarray) -> np.ndarray:
    """Per option and item, what selection maximises: the mean reciprocal rank of the item's queries.

    ``imitation[option, item]`` is the imitation-only reciprocal rank;
    ``fused[option, item]`` the label + imitation one, NaN where the item has
    no label (then only its imitation counts).
    """
    return np.where(np.isnan(fused), imitation, (imitation + np.nan_to_num(fused)) / 2)


def best_option(table: np.ndarray, items: np.ndarray | None = None) -> int:
    """The option with the highest mean over ``items`` (all by default); ties go to the earlier option."""
    values = table if items is None else table[:, items]
    means = values.mean(axis=1)
    return int(np.flatnonzero(means >= means.max() - 1e-12)[0])


def leave_one_out(table: np.ndarray) -> np.ndarray:
    """For each item, the option chosen on all the other items: ``chosen[item]``."""
    n = table.shape[1]
    return np.array([best_option(table, np.delete(np.arange(n), i)) for i in range(n)], dtype=int)


def held_out(values: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Each item's value under the option chosen without it: ``values[chosen[i], i]``."""
    return values[chosen, np.arange(values.shape[1])]

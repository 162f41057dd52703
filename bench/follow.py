"""How closely results follow the real imitations.

Prints, over the shared imitations: median loudness r (10 ms frames where
either signal is above -50 dBFS) and median onset F1 (50 ms tolerance), for
the recipe each imitation's label picks, then for every recipe on every
imitation (``--all-recipes``).

    python bench/follow.py [--all-recipes] [--variations 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import imitation_files, label_for  # noqa: E402

from sfxcli.pipeline import generate  # noqa: E402
from sfxcli.request import GenerateRequest  # noqa: E402
from sfxcli.presets import recipe_names  # noqa: E402


def run(preset: str | None, variations: int, folder: Path) -> tuple[list[float], list[float]]:
    rs, f1s = [], []
    for path in imitation_files():
        request = GenerateRequest(imitation=path, label=label_for(path), project=folder, variations=variations,
                                  seed=1, preset=preset)
        for result in generate(request).results:
            rs.append(result.score.loudness_r)
            f1s.append(result.score.onset_f1)
    return rs, f1s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all-recipes", action="store_true")
    parser.add_argument("--variations", type=int, default=1)
    args = parser.parse_args()
    files = imitation_files()
    print(f"{len(files)} imitations, {args.variations} variation(s) each")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        rs, f1s = run(None, args.variations, Path(tmp))
        print(f"default engine choice (auto) and label-chosen recipes: median loudness r {np.median(rs):.3f} (min {np.min(rs):.3f}), "
              f"median onset F1 {np.median(f1s):.3f} (min {np.min(f1s):.3f})  [{time.perf_counter() - start:.1f} s]")
        if args.all_recipes:
            print(f"{'recipe':14s} {'med r':>6s} {'min r':>6s} {'med F1':>7s}")
            for name in recipe_names():
                rs, f1s = run(name, args.variations, Path(tmp))
                print(f"{name:14s} {np.median(rs):6.3f} {np.min(rs):6.3f} {np.median(f1s):7.3f}")


if __name__ == "__main__":
    main()

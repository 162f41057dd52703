"""The library engine: indexing speed, generation time, and how closely it follows.

- indexes a synthesised library of N short files (default 10,000) from
  scratch, then again with nothing changed, then after touching 1%;
- times `sfx gen` on the 3 s example with 4 variations on the built-in library;
- prints median loudness r and onset F1 over the shared imitations with the
  library engine forced (labels the built-in library knows).

    python bench/library.py [--files 10000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, imitation_files  # noqa: E402

from sfxcli.library.index import update_index  # noqa: E402
from sfxcli.pipeline import generate  # noqa: E402
from sfxcli.request import GenerateRequest  # noqa: E402

WORDS = ["door", "creak", "slam", "glass", "metal", "hit", "wind", "rain", "fire", "engine", "whoosh", "dog", "bark"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SFX_CACHE"] = str(Path(tmp) / "cache")
        root = Path(tmp) / "lib"
        rng = np.random.default_rng(0)
        clip = (0.2 * rng.standard_normal(4800)).astype(np.float32)
        for i in range(args.files):
            folder = root / f"{WORDS[i % len(WORDS)]}s" / f"batch{i // 500}"
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{WORDS[(i * 7) % len(WORDS)]}_{WORDS[(i * 3) % len(WORDS)]}_{i:05d}.wav"
            sf.write(folder / name, clip, 48000)
        start = time.perf_counter()
        entries, _ = update_index(root)
        first = time.perf_counter() - start
        start = time.perf_counter()
        update_index(root)
        again = time.perf_counter() - start
        touched = list(root.rglob("*.wav"))[:: 100]
        for path in touched:
            sf.write(path, clip[:2400], 48000)
        start = time.perf_counter()
        _, report = update_index(root)
        partial = time.perf_counter() - start
        print(f"index {len(entries)} files: {first:.2f} s from scratch ({len(entries) / first:.0f} files/s), "
              f"{again:.2f} s unchanged, {partial:.2f} s after changing {report.updated}")

        sfx = str(Path(sys.executable).parent / "sfx")
        project = Path(tmp) / "project"
        project.mkdir()
        times = []
        for _ in range(5):
            start = time.perf_counter()
            subprocess.run([sfx, "gen", str(REPO / "examples" / "hum.wav"), "door creak", "-n", "4", "-q",
                            "--engine", "library", "--project", str(project)], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        print(f"sfx gen --engine library, 3 s imitation, 4 variations: median {statistics.median(times):.3f} s")

        labels = ["door creak", "explosion", "cow", "rain", "laser", "thunder", "bird", "wind"]
        rs, f1s = [], []
        for i, path in enumerate(imitation_files()):
            result = generate(GenerateRequest(imitation=path, label=labels[i % len(labels)], project=project,
                                              variations=1, seed=1, engine="library"))
            rs.append(result.results[0].score.loudness_r)
            f1s.append(result.results[0].score.onset_f1)
        print(f"library engine on {len(rs)} real imitations: median loudness r {np.median(rs):.3f} "
              f"(min {np.min(rs):.3f}), median onset F1 {np.median(f1s):.3f}")


if __name__ == "__main__":
    main()

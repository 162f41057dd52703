"""Speed: analysis per 10 s of audio, `sfx gen` end to end, and `sfx --help`.

Targets (2-core laptop, no GPU): analysis of 10 s <= 50 ms; `sfx gen` on a 3 s
imitation with 4 variations <= 1 s wall time; `sfx --help` <= 0.3 s.

    python bench/speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, imitation_files  # noqa: E402

from sfxcli.analysis import analyse  # noqa: E402
from sfxcli.audio import read_imitation  # noqa: E402


def time_analysis(repeats: int) -> float:
    """Median milliseconds per 10 s of audio over the shared imitations."""
    per_10s = []
    for path in imitation_files():
        imitation = read_imitation(path)
        analyse(imitation.samples, imitation.sample_rate)  # warm caches
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            analyse(imitation.samples, imitation.sample_rate)
            runs.append(time.perf_counter() - start)
        per_10s.append(min(runs) * 1000 * 10 / imitation.duration_seconds)
    return float(np.median(per_10s)), float(np.max(per_10s))


def time_command(args: list[str], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sfx = str(Path(sys.executable).parent / "sfx")
    median_ms, worst_ms = time_analysis(args.repeats)
    print(f"analysis: {median_ms:.1f} ms per 10 s of audio (median over imitations; worst {worst_ms:.1f} ms; target <= 50)")
    hum = REPO / "examples" / "hum.wav"
    with tempfile.TemporaryDirectory() as tmp:
        for label in ("door creak", "car engine", "monster growl", "flibbertigibbet"):
            times = time_command([sfx, "gen", str(hum), label, "-n", "4", "-q", "--project", tmp], args.repeats)
            print(f"sfx gen 3 s imitation, 4 variations, '{label}': median {statistics.median(times):.3f} s, "
                  f"best {min(times):.3f} s (target <= 1.0)")
    times = time_command([sfx, "--help"], args.repeats)
    print(f"sfx --help: median {statistics.median(times):.3f} s (target <= 0.3)")


if __name__ == "__main__":
    main()

"""Training speed: `sfx train finetune` and `sfx train controls` steps per second.

Runs a short fine-tune and a short controls run on real files from
../shared/data/sfx and prints steps/s (after a warm-up, from the logs' wall
time). On this CPU use the debug model; on a GPU pass the real model.

    python bench/train.py [--model debug] [--steps 30] [--batch-size 2] [--seconds 2]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO  # noqa: E402

from training.adapter import ControlsConfig, train_controls  # noqa: E402
from training.data import Example  # noqa: E402
from training.finetune import FinetuneConfig, finetune  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="debug")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    shared = REPO.parent / "shared" / "data" / "sfx"
    rows = list(csv.DictReader(open(shared / "manifest.csv")))[:16]
    examples = [Example(r["label"], shared / r["path"]) for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        for name, run in (("finetune", lambda folder, steps: finetune(
                              examples, args.model, FinetuneConfig(steps=steps, batch_size=args.batch_size,
                                                                   seconds=args.seconds, demo_every=0,
                                                                   checkpoint_every=max(steps, 1)), folder)),
                          ("controls", lambda folder, steps: train_controls(
                              examples, args.model, ControlsConfig(steps=steps, batch_size=args.batch_size,
                                                                   seconds=args.seconds, crops_per_sound=1,
                                                                   checkpoint_every=steps), folder))):
            run(Path(tmp) / f"{name}-warm", 2)
            start = time.perf_counter()
            run(Path(tmp) / f"{name}-short", 2)
            setup = time.perf_counter() - start
            start = time.perf_counter()
            run(Path(tmp) / name, args.steps)
            wall = time.perf_counter() - start
            rate = (args.steps - 2) / max(wall - setup, 1e-9)
            print(f"{name}: {args.steps} steps of {args.batch_size} x {args.seconds} s crops on {args.model}: "
                  f"{wall:.1f} s including {setup:.1f} s of setup; about {rate:.2f} steps/s")


if __name__ == "__main__":
    main()

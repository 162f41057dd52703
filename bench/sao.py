"""The Stable Audio Open engine: load time, per-request time, and on a GPU real-time factor and peak memory.

- load: import of stable-audio-tools plus building (and reading) the model,
  measured once in this process;
- per request: `generate` through the whole pipeline (sketch, sampling,
  post-processing, ranking, writing) on the 3 s example with 4 variations,
  median of --repeats after one warm-up, the model held resident as
  `sfx serve` holds it;
- sampling alone: the model call for the same batch, and its real-time factor
  (seconds of audio made per second of wall time, all variations counted);
- on CUDA: peak GPU memory during sampling.

    python bench/sao.py                                   # debug model on this machine's device
    python bench/sao.py --model stabilityai/stable-audio-open-1.0 --steps 100
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="debug", help="hub id, model folder or debug")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps (default: the model's)")
    parser.add_argument("--variations", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    from sfxcli.engines.sao import generate as sample, resident_model, sampler_settings

    model = resident_model(args.model)
    load = time.perf_counter() - started
    print(f"model: {model.describe()}")
    print(f"load (import stable-audio-tools, build, read weights, move to device): {load:.2f} s")

    from sfxcli.pipeline import GenerateRequest, generate
    from sfxcli.presets import Generative

    example = REPO / "examples" / "hum.wav"
    with tempfile.TemporaryDirectory() as project:
        request = GenerateRequest(imitation=example, label="door creak", project=Path(project), engine="sao",
                                  model=args.model, steps=args.steps, variations=args.variations, seed=1)
        generate(request)  # warm-up
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            generate(request)
            times.append(time.perf_counter() - t0)
    print(f"per request, {args.variations} variations of the 3 s example through the pipeline: "
          f"median {statistics.median(times):.2f} s (min {min(times):.2f}, max {max(times):.2f})")

    import torch

    settings = sampler_settings(model, Generative(steps=args.steps or 0))
    seconds = 3.25  # the example plus a recipe tail
    cuda = model.device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    walls = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        sample(model, "door creak, sound effect", "music", seconds, args.variations, 1, settings)
        if cuda:
            torch.cuda.synchronize()
        walls.append(time.perf_counter() - t0)
    wall = statistics.median(walls)
    print(f"sampling alone, {args.variations} x {seconds} s at {settings['steps']} steps: {wall:.2f} s; "
          f"real-time factor {args.variations * seconds / wall:.1f}x (audio seconds per wall second)")
    if cuda:
        print(f"peak GPU memory while sampling: {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
    else:
        print(f"device {model.device}: no GPU memory figure")


if __name__ == "__main__":
    main()

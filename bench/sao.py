"""The Stable Audio Open engine: load time, per-request time, and on a GPU real-time factor and peak memory.

- load: import of stable-audio-tools plus building (and reading) the model,
  measured once in this process;
- per request: `generate` through the whole pipeline (sketch, sampling,
  post-processing, ranking, writing) on the 3 s example with 4 variations,
  median of --repeats after one warm-up, the model held resident as
  `sfx serve` holds it;
- sampling alone: the model call for the same batch, and its real-time factor
  (seconds of audio made per second of wall time, all variations counted);
- on CUDA: peak GPU memory during sampling;
- with --follow: over the shared real imitations, for each sketch mode, the
  median loudness r and onset F1 of the model's raw output and of the
  finished file (after the envelope follow). With real weights on a GPU this
  is how the sketch modes and noise levels are compared; with the debug
  model the raw figures only show what a random network keeps of its sketch.

    python bench/sao.py                                   # debug model on this machine's device
    python bench/sao.py --model stabilityai/stable-audio-open-1.0 --steps 100 --follow
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, imitation_files, label_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="debug", help="hub id, model folder or debug")
    parser.add_argument("--steps", type=int, default=None, help="sampling steps (default: the model's)")
    parser.add_argument("--variations", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--follow", action="store_true", help="adherence per sketch mode on the real imitations")
    parser.add_argument("--sketch-noise", type=float, default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    from sfxcli.engines.choice import Resident
    from sfxcli.engines.sao import generate as sample, sampler_settings

    resident = Resident()  # held for the whole run, as the serve worker holds its model
    model = resident.sao_model(args.model)
    load = time.perf_counter() - started
    print(f"model: {model.describe()}")
    print(f"load (import stable-audio-tools, build, read weights, move to device): {load:.2f} s")

    from sfxcli.pipeline import generate
    from sfxcli.presets import Generative
    from sfxcli.request import GenerateRequest

    example = REPO / "examples" / "hum.wav"
    with tempfile.TemporaryDirectory() as project:
        request = GenerateRequest(imitation=example, label="door creak", project=Path(project), engine="sao",
                                  model=args.model, steps=args.steps, variations=args.variations, seed=1)
        generate(request, resident=resident)  # warm-up
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            generate(request, resident=resident)
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
    if args.follow:
        follow(args, resident)


def follow(args: argparse.Namespace, resident: Any) -> None:
    import numpy as np

    from sfxcli.analysis import analyse, controls_from_curves
    from sfxcli.audio import read_imitation
    from sfxcli.engines.choice import choose_engine
    from sfxcli.match import encode_query
    from sfxcli.pipeline import generate
    from sfxcli.presets import load_recipe
    from sfxcli.rank import score
    from sfxcli.request import GenerateRequest

    files = imitation_files()
    print(f"adherence on {len(files)} real imitations, 1 variation each (median loudness r / onset F1):")
    with tempfile.TemporaryDirectory() as project:
        for mode in ("engine", "imitation", "none"):
            raw_r, raw_f1, done_r, done_f1 = [], [], [], []
            for path in files:
                request = GenerateRequest(imitation=path, label=label_for(path), project=Path(project), engine="sao",
                                          model=args.model, steps=args.steps, sketch=mode,
                                          sketch_noise=args.sketch_noise, variations=1, seed=1)
                result = generate(request, resident=resident)
                done_r.append(result.results[0].score.loudness_r)
                done_f1.append(result.results[0].score.onset_f1)
                imitation = read_imitation(path)
                curves = analyse(imitation.samples, imitation.sample_rate)
                take = (imitation.samples, imitation.sample_rate)
                engine = choose_engine(request, take, encode_query(request.label, take), resident).engine
                recipe = load_recipe(result.recipe)
                raw = engine.render_batch(controls_from_curves(curves), recipe, [1], 48000,
                                          imitation.duration_seconds + recipe.tail_seconds)[0].audio
                raw_score = score(imitation.samples, imitation.sample_rate, curves.onsets_seconds, raw, 48000)
                raw_r.append(raw_score.loudness_r)
                raw_f1.append(raw_score.onset_f1)
            print(f"  sketch {mode:9s}: raw model output r {np.median(raw_r):.3f} F1 {np.median(raw_f1):.3f}; "
                  f"finished r {np.median(done_r):.3f} F1 {np.median(done_f1):.3f}")


if __name__ == "__main__":
    main()

"""Library indexing at scale, and what embedded metadata costs a written file.

- builds a library of --files short WAVs (default 20,000), each with a JSON
  sidecar, and prints: indexing from scratch; the check of the unchanged
  library (what every `sfx gen --library` pays; goal <= 0.2 s) and
  `open_library` on it; after relabelling 1% through their sidecars;
- indexes --large files (default 100,000) from scratch and unchanged;
- times encoding a 3 s result with and without its metadata (bext, iXML,
  INFO for WAV; Vorbis comments for FLAC and Ogg; ID3 for MP3).

    python bench/index.py [--files 20000] [--large 100000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = ["door", "creak", "slam", "glass", "metal", "hit", "wind", "rain", "fire", "engine", "whoosh", "dog", "bark"]


def build(root: Path, count: int, sidecars: bool) -> None:
    buffer = io.BytesIO()
    sf.write(buffer, (0.2 * np.random.default_rng(0).standard_normal(480)).astype(np.float32), 8000,
             format="WAV", subtype="PCM_16")
    data = buffer.getvalue()
    for i in range(count):
        folder = root / f"{WORDS[i % len(WORDS)]}s" / f"batch{i // 500}"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{WORDS[(i * 7) % len(WORDS)]} {WORDS[(i * 3) % len(WORDS)]} {i:06d}"
        (folder / f"{name}.wav").write_bytes(data)
        if sidecars:
            (folder / f"{name}.json").write_text(json.dumps({"label": name.rsplit(" ", 1)[0], "tags": ["bench"]}))


def timed(action) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SFX_CACHE"] = str(Path(tmp) / "cache")
        from sfxcli.library.index import update_index
        from sfxcli.library.store import open_library

        root = Path(tmp) / "lib"
        build(root, args.files, sidecars=True)
        first = timed(lambda: update_index(root))
        checks = [timed(lambda: update_index(root)) for _ in range(5)]
        opened = [timed(lambda: open_library(root, refresh=True)) for _ in range(3)]
        print(f"{args.files} files with sidecars: indexed from scratch in {first:.2f} s; "
              f"unchanged check median {statistics.median(checks):.3f} s (goal <= 0.2 s); "
              f"open_library (what sfx gen pays) median {statistics.median(opened):.3f} s")
        relabel = sorted(root.rglob("*.json"))[::100]
        for path in relabel:
            path.write_text(json.dumps({"label": "gate squeak"}))
        after = timed(lambda: update_index(root))
        print(f"after relabelling {len(relabel)} through their sidecars: {after:.3f} s")

        large = Path(tmp) / "large"
        build(large, args.large, sidecars=False)
        scratch = timed(lambda: update_index(large))
        again = timed(lambda: update_index(large))
        print(f"{args.large} files: indexed from scratch in {scratch:.1f} s ({args.large / scratch:.0f} files/s); "
              f"unchanged check {again:.2f} s")

    from sfxcli.metadata import Tags, embed
    from sfxcli.output import encode

    audio = 0.3 * np.sin(np.arange(3 * 48000) / 9.0)
    tags = Tags(fx_name="door creak", catid="DOORCreak", category="DOORS", subcategory="CREAK",
                description="door creak (sfx library engine, recipe creak)", keywords=("door", "creak", "hinge"),
                creator_id="JD", source_id="Demo", designer="Jo Doe", library="Demo", notes="seed 1; reproduce: ...",
                originator_reference="SFX" + "0" * 29, date="2026-12-03", time="09:12:00", time_reference=48000,
                sample_rate=48000, channels=1, bits=24, engine="library")
    for fmt in ("wav", "flac", "ogg", "mp3"):
        plain = statistics.median(timed(lambda: encode(audio, 48000, fmt)) for _ in range(7))
        data = encode(audio, 48000, fmt)
        tagged = statistics.median(timed(lambda: embed(data, fmt, tags)) for _ in range(7))
        extra = len(embed(data, fmt, tags)) - len(data)
        print(f"{fmt}: encoding a 3 s result {plain * 1000:.1f} ms, metadata +{tagged * 1000:.2f} ms "
              f"(+{100 * tagged / plain:.0f}%), +{extra} bytes")


if __name__ == "__main__":
    main()

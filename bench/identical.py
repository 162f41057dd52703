"""Byte-identity of seeded outputs: a fixed set of `sfx gen` requests, hashed, to compare two versions of sfx.

Every request runs through the CLI as a user types it, with a seed, into a
fresh project and a fresh cache: several labels, each engine (auto, embedded,
library, sao with the debug model), a --seconds stretch, a --library folder
of real recordings, FLAC with --lufs and FX chains. Each written file is
kept: the audio as a hash of its bytes, the sidecar as its content with the
repository's and the run's temporary folders replaced by placeholders
(library locations appear there). Sidecars compare equal when every field
is; the reproduce command when it holds the same arguments, in any order.

    python bench/identical.py --save before.json           # on the old version
    python bench/identical.py --against before.json        # on the new one: identical N/N, or what differs

Run the old version from a checkout of it (`git worktree add /tmp/old HEAD~1`)
with `PYTHONPATH=/tmp/old python /tmp/old/bench/identical.py --save ...`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import shlex
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import IMITATIONS, REPO  # noqa: E402

SOUNDS = REPO.parent / "shared" / "data" / "sfx"
HUM = str(REPO / "examples" / "hum.wav")
GROWL = str(IMITATIONS / "imitations" / "Animal_Domestic_animals_pets_Dog_Growling__cd4a0ad6.wav")
WHIP = str(IMITATIONS / "imitations" / "Source_ambiguous_sounds_Generic_impact_sounds_Whip__9ef5054c.wav")
LIBRARY_FILES = ("mod-sounds/sounds_door_close_01.ogg", "mod-sounds/sounds_door_creak.ogg",
                 "mod-sounds/sounds_door_knock_01.ogg", "mod-sounds/sounds_door_open.ogg",
                 "mod-sounds/sounds_tree_creak.ogg", "scratch/DoorCreak.wav", "scratch/AlienCreak1.wav",
                 "minetest-data/default_wood_footstep.1.ogg")

# name -> sfx gen arguments after the project (a "{library}" argument is the folder made from LIBRARY_FILES)
REQUESTS: dict[str, list[str]] = {
    "auto-door-creak": [HUM, "door creak", "-n", "3", "--seed", "11"],
    "embedded-laser": [HUM, "laser zap", "--engine", "embedded", "-n", "2", "--seed", "5"],
    "library-growl-layers": [GROWL, "dog growl", "--engine", "library", "-n", "2", "--seed", "3",
                             "--library-layers", "2"],
    "stretch-whoosh": [WHIP, "whoosh", "--seconds", "4.5", "-n", "2", "--seed", "2"],
    "user-library-shift": [HUM, "door creak", "--engine", "library", "--library", "{library}", "-n", "2",
                           "--seed", "9", "--library-pitch", "shift"],
    "flac-lufs-fx": [WHIP, "rain on a roof", "--format", "flac", "--lufs", "-20", "--fx", "room-small,grit",
                     "-n", "1", "--seed", "8", "--candidates", "3"],
    "sao-debug": [HUM, "door creak", "--engine", "sao", "--model", "debug", "-n", "2", "--seed", "4"],
    "sao-debug-imitation-sketch": [WHIP, "whip crack", "--engine", "sao", "--model", "debug", "-n", "1",
                                   "--seed", "6", "--sketch", "imitation", "--steps", "4", "--sample-rate", "44100"],
}


def _digest(path: Path, tmp: Path) -> Any:
    """An audio file's SHA-256; a sidecar's content, with the run's folders replaced by placeholders."""
    data = path.read_bytes()
    if path.suffix != ".json":
        import soundfile as sf

        samples, rate = sf.read(path, dtype="int32" if path.suffix in (".wav", ".flac") else "float32")
        return {"bytes": hashlib.sha256(data).hexdigest(),
                "samples": hashlib.sha256(samples.tobytes() + str((rate, samples.shape)).encode()).hexdigest()}
    text = data.decode().replace(str(REPO), "<repo>").replace(str(tmp), "<tmp>")
    return json.loads(text)


def _compare(old: Any, new: Any, samples_only: bool) -> str | None:
    """None when equal; else what differs. A sidecar's reproduce command counts as equal when it holds the same
    arguments (flag and value pairs) in another order. With ``samples_only``, audio files compare by their
    decoded samples and sidecars are not compared (for a change that adds metadata)."""
    if isinstance(old, dict) and "samples" in old:
        key = "samples" if samples_only else "bytes"
        return None if old.get(key) == new.get(key) else key
    if samples_only:
        return None
    if not isinstance(old, dict) or not isinstance(new, dict):
        return None if old == new else "bytes"
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    if keys == ["reproduce"] or (keys and keys[-1] == "reproduce"):
        if _arguments(old["reproduce"]) == _arguments(new["reproduce"]):
            keys.remove("reproduce")
    return ", ".join(keys) or None


def _arguments(command: str) -> list[tuple[str, ...]]:
    """A gen command as its imitation and label plus its (option, value) pairs, each option by its field name."""
    try:
        from sfxcli.request import options
    except ImportError:  # a version before the request table: compare the command as written
        return [(command,)]
    alias = {flag: row.name for row in options() for flag in row.flags}
    words = shlex.split(command)
    head, rest = words[:4], words[4:]
    pairs, i = [], 0
    while i < len(rest):
        takes_value = i + 1 < len(rest) and not (rest[i + 1].startswith("-") and rest[i + 1] in alias)
        name = alias.get(rest[i], rest[i])
        pairs.append((name, rest[i + 1]) if takes_value else (name,))
        i += 2 if takes_value else 1
    return [tuple(head), *sorted(pairs)]


def run_all() -> dict[str, dict[str, Any]]:
    from sfxcli.app import main

    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "library"
        for rel in LIBRARY_FILES:
            (library / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(SOUNDS / rel, library / rel)
        for name, args in REQUESTS.items():
            project = Path(tmp) / name
            project.mkdir()
            os.environ["SFX_CACHE"] = str(Path(tmp) / f"cache-{name}")
            argv = ["gen", *[str(library) if a == "{library}" else a for a in args], "--project", str(project), "-q"]
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # the paths; the hashes are what matter
                    main(argv)
            except SystemExit as done:
                if done.code not in (0, None):
                    results[name] = {"error": f"exit {done.code}"}
                    continue
            files = sorted(p for p in (project / "sfx").iterdir() if p.is_file())
            results[name] = {p.name: _digest(p, Path(tmp)) for p in files}
            print(f"{name}: {len(files)} files", file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the hashes here")
    group.add_argument("--against", type=Path, help="compare with hashes saved by an earlier version")
    parser.add_argument("--samples", action="store_true",
                        help="compare decoded samples only (for changes that add metadata to the files)")
    args = parser.parse_args()
    results = run_all()
    if args.save:
        args.save.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        print(f"saved {sum(len(v) for v in results.values())} hashes of {len(results)} requests to {args.save}")
        return
    before = json.loads(args.against.read_text())
    total = same = 0
    for name in sorted(set(before) | set(results)):
        old, new = before.get(name, {}), results.get(name, {})
        if args.samples:  # file names may change with the version: results compare in the order they were ranked
            old = {f"{i}": v for i, (_, v) in enumerate(sorted((k, v) for k, v in old.items() if not k.endswith(".json")))}
            new = {f"{i}": v for i, (_, v) in enumerate(sorted((k, v) for k, v in new.items() if not k.endswith(".json")))}
        for file in sorted(set(old) | set(new)):
            total += 1
            difference = ("missing now" if file not in new else "new" if file not in old
                          else _compare(old[file], new[file], args.samples))
            if difference is None:
                same += 1
            else:
                print(f"differs: {name}/{file} ({difference})")
    print(f"identical{' samples' if args.samples else ''}: {same}/{total} files over {len(results)} requests")
    sys.exit(0 if same == total else 1)


if __name__ == "__main__":
    main()

"""Audio features of every recording in a library, kept on disk and brought up to date incrementally.

The match model (``sfxcli.match``) compares a query with each
recording's sound features. They are computed once per file and stored in
``$SFX_CACHE`` beside the library's index, keyed by path, size and
modification time: re-running reads only new and changed files. The built-in
library ships its features.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import numpy as np

from sfxcli.errors import AudioInputError
from sfxcli.match.features import FEATURE_VERSION
from sfxcli.library.index import index_path
from sfxcli.library.store import DEFAULT_LIBRARY, Library, load_cache, save_cache

SHIPPED_FEATURES = DEFAULT_LIBRARY / "sounds.npz"
SHIPPED = {"features": SHIPPED_FEATURES, "aisfx": DEFAULT_LIBRARY / "sounds-aisfx.npz"}  # by encoder


def features_path(root: Path, encoder: str) -> Path:
    if root.resolve() == DEFAULT_LIBRARY.resolve() and encoder in SHIPPED:
        return SHIPPED[encoder]
    tag = hashlib.sha256(f"{encoder}:{FEATURE_VERSION}".encode()).hexdigest()[:8]
    return index_path(root).with_name(index_path(root).stem + f".sounds-{tag}.npz")


def library_features(library: Library, encode: Callable[[np.ndarray, int], np.ndarray], encoder: str = "features",
                     progress: Callable[[int, int], None] | None = None,
                     only: set[int] | None = None) -> tuple[np.ndarray, list[str]]:
    """(recordings, dim) features row for row with ``library.entries``, and the paths that could not be read.

    Unreadable recordings get a row of zeros (they never rank first); with
    ``only``, just those entries are read and the other rows are zeros.
    """
    from sfxcli.audio import read_sound

    path = features_path(library.root, encoder)
    known: dict[str, tuple[float, int, np.ndarray]] = {}
    data = load_cache(path, ("version", "paths", "mtimes", "sizes", "vectors"))
    if data is not None and int(data["version"]) == FEATURE_VERSION:
        for p, mtime, size, vector in zip(data["paths"], data["mtimes"], data["sizes"], data["vectors"], strict=True):
            known[str(p)] = (float(mtime), int(size), vector)
    rows: list[np.ndarray | None] = []
    stats: list[tuple[float, int]] = []
    failed: list[str] = []
    todo = []
    shipped = path in SHIPPED.values()  # packaged files get new mtimes on install: trust the shipped rows
    for i, entry in enumerate(library.entries):
        if only is not None and i not in only:
            stats.append((0.0, 0))
            rows.append(None)
            continue
        file = library.root / entry.path
        try:
            stat = file.stat()
        except OSError:
            stats.append((0.0, 0))
            rows.append(None)
            failed.append(entry.path)
            continue
        stats.append((stat.st_mtime, stat.st_size))
        hit = known.get(entry.path)
        if hit is not None and (shipped or (abs(hit[0] - stat.st_mtime) < 1e-6 and hit[1] == stat.st_size)):
            rows.append(hit[2])
        else:
            rows.append(None)
            todo.append(i)
    for done, i in enumerate(todo, start=1):
        try:
            samples, rate = read_sound(library.root / library.entries[i].path)
            rows[i] = encode(samples, rate).astype(np.float32)
        except AudioInputError:
            failed.append(library.entries[i].path)
        if progress:
            progress(done, len(todo))
    dim = next((len(r) for r in rows if r is not None), 0)
    vectors = np.stack([r if r is not None else np.zeros(dim, dtype=np.float32) for r in rows]) if rows else \
        np.zeros((0, dim), dtype=np.float32)
    if todo and not shipped:
        # keep what was known before plus what was read now
        present = {e.path for e in library.entries}
        merged = {p: (m, z, v) for p, (m, z, v) in known.items() if p in present}
        for i, entry in enumerate(library.entries):
            if rows[i] is not None:
                merged[entry.path] = (stats[i][0], stats[i][1], rows[i])
        save_cache(path, {"version": np.array(FEATURE_VERSION), "paths": np.array(list(merged)),
                          "mtimes": np.array([m for m, _, _ in merged.values()]),
                          "sizes": np.array([z for _, z, _ in merged.values()]),
                          "vectors": np.stack([v for _, _, v in merged.values()]) if merged
                          else np.zeros((0, dim), np.float32)})
    return vectors, failed


def write_shipped(encoder: str, paths: list[str], rows: list[np.ndarray], dtype: type = np.float32) -> None:
    """Write the built-in library's vectors for ``encoder`` into the package (atomically), stored as ``dtype``."""
    target = SHIPPED[encoder]
    temp = target.with_name(f".{target.stem}.part.npz")
    np.savez(temp, version=FEATURE_VERSION, paths=np.array(paths), mtimes=np.zeros(len(rows)),
             sizes=np.zeros(len(rows), dtype=np.int64), vectors=np.stack(rows).astype(dtype))
    temp.replace(target)
    print(f"{len(rows)} recordings -> {target}")


def build_shipped() -> None:
    """Compute the built-in library's sound features and write them into the package.

        python -m sfxcli.library.sounds
    """
    from sfxcli.audio import read_sound
    from sfxcli.match.features import sound_vector
    from sfxcli.library.store import open_library

    library = open_library(DEFAULT_LIBRARY)
    rows = []
    for entry in library.entries:
        samples, rate = read_sound(library.root / entry.path)
        rows.append(sound_vector(samples, rate))
    write_shipped("features", [e.path for e in library.entries], rows)


if __name__ == "__main__":
    build_shipped()

"""An on-disk index of a folder of recordings, updated incrementally.

Labels come from, in order of trust: a JSON sidecar beside the file
(``label``/``description``, ``tags``/``keywords``), a CSV manifest in the
file's folder or any folder above it (columns ``path``/``file``/``filename``
and ``label``/``description``, optional ``tags``, ``license``, ``author``),
the file's embedded metadata (iXML USER fields, BWF Description and RIFF
INFO in WAV; Vorbis comments and ID3 elsewhere: ``sfxcli.metadata``), a
UCS-style file name (``CatID_FX Name_Creator_Source``), and otherwise the
file name and its folders. The index is a SQLite file in the user's cache
folder (``$SFX_CACHE``), keyed by the library's path, so read-only libraries
work too.

An unchanged library is not read again: one walk of its folders and a stat
of each file; a file is described and probed again only when its size or
modification time, or its sidecar's, changed, and every file when a
manifest changed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
import secrets
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sfxcli.audio import AUDIO_SUFFIXES
from sfxcli.errors import LibraryError
from sfxcli.log import LOGGER
from sfxcli.settings import cache_dir

INDEX_VERSION = 2
log = logging.getLogger(LOGGER)
MANIFEST_NAMES = ("manifest.csv", "metadata.csv", "labels.csv")
_AUDIO = frozenset(suffix[1:] for suffix in AUDIO_SUFFIXES)


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the library root, with forward slashes
    label: str
    tags: str
    catid: str
    duration_seconds: float
    sample_rate: int
    channels: int
    licence: str = ""
    author: str = ""


@dataclass
class IndexReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def index_path(root: Path) -> Path:
    key = hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / f"library-{key}.sqlite"


def is_regular(path: Path) -> bool:
    """A regular file, or a link to one; never opens it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def words_of(text: str) -> str:
    """File-name text as words: separators to spaces, camelCase split, digits and take numbers dropped."""
    text = _CAMEL.sub(" ", text)
    text = re.sub(r"[_\-.+]+", " ", text)
    text = re.sub(r"\b\d+\b|\b(?:take|tk|v)\d+\b", " ", text, flags=re.I)
    return re.sub(r"\s+", " ", text).strip().lower()


def _ucs_parts(stem: str, catids: frozenset[str]) -> tuple[str, str] | None:
    parts = stem.split("_")
    if len(parts) >= 2 and parts[0] in catids:
        return parts[0], words_of(parts[1])
    return None


def _manifest_rows(manifests: list[Path], root: Path) -> dict[str, dict[str, str]]:
    """Rows of the library's CSV manifests, keyed by the file they describe (relative path)."""
    rows: dict[str, dict[str, str]] = {}
    base = os.path.abspath(root)
    for manifest in manifests:
        folder = manifest.parent
        if is_regular(manifest):
            try:
                with open(manifest, newline="", encoding="utf-8", errors="replace") as handle:
                    for row in csv.DictReader(handle):
                        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
                        target = row.get("path") or row.get("file") or row.get("filename")
                        if target:
                            full = os.path.normpath(os.path.join(os.path.abspath(folder), target))
                            if full.startswith(base + os.sep):
                                rows[Path(os.path.relpath(full, base)).as_posix()] = row
            except (OSError, csv.Error, ValueError):
                continue
    return rows


@dataclass(frozen=True)
class Description:
    label: str
    tags: str
    catid: str = ""
    licence: str = ""
    author: str = ""


def describe(file: Path, root: Path, manifest_rows: dict[str, dict[str, str]], catids: frozenset[str],
             has_sidecar: bool = True) -> Description:
    """What one file is, from the most trusted source that says (see the module's docstring)."""
    from sfxcli.metadata import MetadataError, read_tags

    rel = file.relative_to(root).as_posix()
    folders = " ".join(words_of(part) for part in file.relative_to(root).parent.parts)
    sidecar = file.with_suffix(".json")
    if has_sidecar and is_regular(sidecar):
        try:
            data = json.loads(sidecar.read_text(encoding="utf-8"))
            if isinstance(data, dict) and (data.get("label") or data.get("description")):
                tags = data.get("tags") or data.get("keywords") or ""
                tags = " ".join(tags) if isinstance(tags, list) else str(tags)
                return Description(str(data.get("label") or data.get("description")), f"{tags} {folders}".strip(),
                                   str(data.get("catid", "")), str(data.get("license") or data.get("licence") or ""),
                                   str(data.get("author", "")))
        except (OSError, ValueError):
            pass
    row = manifest_rows.get(rel)
    if row and (row.get("label") or row.get("description")):
        return Description(row.get("label") or row.get("description") or "",
                           f"{row.get('tags', '')} {folders}".strip(), row.get("catid", ""),
                           row.get("license", "") or row.get("licence", ""), row.get("author", ""))
    try:
        found = read_tags(file)
    except MetadataError as error:
        log.warning("%s: its embedded metadata is broken (%s); indexed by its file name", rel, error)
    else:
        if sum(c.isalpha() for c in found.label) >= 3:  # not a title such as "19.5.16" or "01"
            # the file's own name stays among the words it is found by
            return Description(found.label, f"{found.keywords} {words_of(file.stem)} {folders}".strip(),
                               found.catid if found.catid in catids else "", found.licence, found.author)
    ucs = _ucs_parts(file.stem, catids)
    if ucs:
        return Description(ucs[1], folders, ucs[0])
    return Description(words_of(file.stem), folders)


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    version = db.execute("SELECT value FROM meta WHERE key='version'").fetchone()
    if version is None or int(version[0]) != INDEX_VERSION:
        db.execute("DROP TABLE IF EXISTS files")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (str(INDEX_VERSION),))
    db.execute(
        "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sidecar_ns INTEGER,"
        " label TEXT, tags TEXT, catid TEXT, licence TEXT, author TEXT, duration REAL, sample_rate INTEGER,"
        " channels INTEGER, error TEXT)"
    )
    return db


def _probe(file: Path) -> tuple[float, int, int]:
    import soundfile as sf

    info = sf.info(str(file))
    if info.frames <= 0 or info.samplerate <= 0:
        raise ValueError("no audio frames")
    return info.frames / info.samplerate, int(info.samplerate), int(info.channels)


def _walk(root: Path) -> tuple[list[tuple[str, int, int, int, bool]], list[Path], list[tuple[str, str]]]:
    """One pass over the library with ``os.scandir``: its audio files as (path relative to ``root``, size,
    mtime, sidecar mtime or 0, has sidecar), its manifests, and what was skipped. Hidden files and folders are
    left out; folder links are not followed (no loops)."""
    audio: list[tuple[str, int, int, int, bool]] = []
    manifests: list[Path] = []
    skipped: list[tuple[str, str]] = []
    pending = [""]
    base = str(root)
    while pending:
        prefix = pending.pop()
        try:
            with os.scandir(os.path.join(base, prefix) if prefix else base) as listing:
                items = list(listing)  # any order: entries come back sorted by path from the index
        except OSError:
            continue
        by_name = {item.name: item for item in items}
        folders = []
        for item in items:
            name = item.name
            if name[0] == ".":
                continue
            stem, dot, extension = name.rpartition(".")
            extension = extension.lower()
            try:
                if extension not in _AUDIO and extension != "csv":  # sidecars, notes, images... and folders
                    if item.is_dir(follow_symlinks=False):
                        folders.append(f"{prefix}/{name}" if prefix else name)
                    continue
                if item.is_dir(follow_symlinks=False):
                    folders.append(f"{prefix}/{name}" if prefix else name)
                    continue
                regular = item.is_file()
            except OSError:
                regular = False
            rel = f"{prefix}/{name}" if prefix else name
            if extension == "csv":
                if regular and name.lower() in MANIFEST_NAMES:
                    manifests.append(root / rel)
            elif regular:
                sidecar = by_name.get(stem + ".json")
                try:
                    info = item.stat()
                    sidecar_ns = sidecar.stat().st_mtime_ns if sidecar is not None else 0
                except OSError:
                    continue
                audio.append((rel, info.st_size, info.st_mtime_ns, sidecar_ns, sidecar is not None))
            else:
                skipped.append((rel, "not a regular file (a pipe, device or broken link)"))
        pending.extend(folders)
    return audio, manifests, skipped


def _snapshot_path(root: Path) -> Path:
    return index_path(root).with_suffix(".rows.json")


def _snapshot(root: Path, generation: str | None) -> list[Any] | None:
    """The index's rows as last written, when they belong to the index's current generation: reading them is
    several times faster than asking SQLite for every row, which is what an unchanged library costs."""
    if generation is None:
        return None
    try:
        data = json.loads(_snapshot_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("generation") != generation or not isinstance(data.get("rows"), list):
        return None
    return data["rows"]


def _save_snapshot(root: Path, generation: str, rows: list[Any]) -> None:
    path = _snapshot_path(root)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        temp.write_text(json.dumps({"generation": generation, "rows": [list(r) for r in rows]}), encoding="utf-8")
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)  # a read-only cache only costs speed


def _signature(paths: list[Path]) -> str:
    parts = []
    for path in paths:
        try:
            info = os.stat(path)
            parts.append(f"{path}|{info.st_size}|{info.st_mtime_ns}")
        except OSError:
            parts.append(f"{path}|gone")
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


def update_index(root: Path, progress: Callable[[int, int], None] | None = None) -> tuple[list[Entry], IndexReport]:
    """Bring the index of ``root`` up to date and return its usable entries."""
    import soundfile as sf

    from sfxcli.labels import ucs_categories

    root = root.expanduser()
    if not root.is_dir():
        raise LibraryError(f"library folder not found: {root}")
    report = IndexReport()
    files, manifests, not_regular = _walk(root)
    signature = _signature(manifests)
    try:
        db = _connect(index_path(root))
    except (OSError, sqlite3.Error) as error:
        raise LibraryError(f"cannot open the library index in {cache_dir()}: {error}", "set SFX_CACHE to a writable folder") from None
    manifest_rows: dict[str, dict[str, str]] | None = None
    catids: frozenset[str] | None = None
    with db:
        stored = db.execute("SELECT value FROM meta WHERE key='manifests'").fetchone()
        manifests_changed = stored is None or stored[0] != signature
        columns = ("SELECT path, size, mtime_ns, sidecar_ns, label, tags, catid, licence, author, duration, "
                   "sample_rate, channels, error FROM files ORDER BY path")
        generation = db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        rows = _snapshot(root, generation[0] if generation else None)
        if rows is None:
            rows = db.execute(columns).fetchall()
            _save_snapshot(root, generation[0] if generation else "0", rows)
        known = {row[0]: row for row in rows}
        seen: set[str] = set()
        changed = False
        for i, (rel, size, mtime_ns, sidecar_ns, has_sidecar) in enumerate(files):
            seen.add(rel)
            previous: Any = known.get(rel)
            same_audio = previous is not None and previous[1] == size and previous[2] == mtime_ns
            if same_audio and previous[3] == sidecar_ns and not manifests_changed:
                report.unchanged += 1
            else:
                changed = True
                if manifest_rows is None:
                    manifest_rows, catids = _manifest_rows(manifests, root), frozenset(c.catid for c in ucs_categories())
                assert catids is not None
                about = describe(root / rel, root, manifest_rows, catids, has_sidecar)
                described = (about.label, about.tags, about.catid, about.licence, about.author)
                if same_audio:  # only the description may have changed: no need to probe the audio again
                    db.execute("UPDATE files SET sidecar_ns=?, label=?, tags=?, catid=?, licence=?, author=? "
                               "WHERE path=?", (sidecar_ns, *described, rel))
                    if described == tuple(previous[4:9]):
                        report.unchanged += 1
                    else:
                        report.updated += 1
                else:
                    try:
                        duration, rate, channels = _probe(root / rel)
                        problem = ""
                    except (sf.LibsndfileError, RuntimeError, ValueError, OSError) as err:
                        duration, rate, channels, problem = 0.0, 0, 0, str(err).strip() or type(err).__name__
                    db.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                               (rel, size, mtime_ns, sidecar_ns, *described, duration, rate, channels, problem))
                    if previous is None:
                        report.added += 1
                    else:
                        report.updated += 1
            if progress and (i % 256 == 0 or i + 1 == len(files)):
                progress(i + 1, len(files))
        gone = [path for path in known if path not in seen]
        if gone:
            changed = True
            db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in gone])
        report.removed = len(gone)
        if manifests_changed:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('manifests', ?)", (signature,))
        if changed:
            rows = db.execute(columns).fetchall()
            new_generation = secrets.token_hex(8)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (new_generation,))
    db.close()
    if changed:
        _save_snapshot(root, new_generation, rows)
    entries = []
    report.skipped.extend(not_regular)
    for path, _, _, _, label, tags, catid, licence, author, duration, rate, channels, problem in rows:
        if problem:
            report.skipped.append((path, problem))
        elif duration >= 0.05:
            entries.append(Entry(path, label, tags, catid, duration, rate, channels, licence, author))
        else:
            report.skipped.append((path, f"only {duration:.3f} s long"))
    return entries, report

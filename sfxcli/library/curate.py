"""Build the built-in library shipped with sfx from labelled sound collections and Debian packages.

    python -m sfxcli.library.debian /tmp/sfx-debian          # once, needs the network: apt-get download + dpkg-deb -x
    python -m sfxcli.library.curate ../shared/data/sfx sfxcli/data/library --debian /tmp/sfx-debian
    python -m sfxcli.library.vectors                         # then the label vectors and word table
    python -m sfxcli.library.sounds                          # and the sound features the match model reads

Sources: the labelled collection's ``manifest.csv`` (its ``license`` and
``author`` columns) and the packages listed in ``sfxcli.library.debian``,
whose copyright files give each file's licence and holder. Only licences
compatible with GPL-3.0-or-later are kept (``debian.ALLOWED``: CC0, public
domain, CC BY of any version, CC BY-SA 4.0, GPL-2.0-or-later, GPL-3.0,
LGPL, BSD, MIT, Zlib, ISC); CC BY-SA 3.0 and earlier, non-commercial and
unclear licences never are. Music, instrument notes and speech are left out.

Each recording is converted to mono Ogg Vorbis at 44.1 kHz, Vorbis quality
0.3 (``compression_level`` 0.7, about 60 kbit/s), edge silence trimmed, at
most 8 s with a 10 ms fade out, peak-normalised to -1 dBFS. Near-identical
recordings (the same sound shipped by two packages, or twice in one) are kept
once: their log spectrograms correlate above 0.97. The size budget of the
whole folder (audio, manifest, credits, vectors and features) is 45 MB.

Writes ``manifest.csv`` (path, label, licence, author, source and the label's
UCS CatID: the index reads it) and ``CREDITS.md``.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfxcli.library.debian import ALLOWED, LICENCE_LINKS, PACKAGES, Package, candidates

MAX_SECONDS = 8.0
RATE = 44100
COMPRESSION_LEVEL = 0.7  # libsndfile's scale: Vorbis quality 1 - 0.7 = 0.3
PEAK = 0.89  # -1 dBFS
SIZE_BUDGET_BYTES = 45 * 10**6
DUPLICATE_CORRELATION = 0.97
EXCLUDE = re.compile(r"^(loop|guit|piano|bass |tabla|sn |bd |elec (hi|lo|mid|filt) snare|glitch bass|mehackit phone)", re.I)
FIELDS = ["path", "label", "license", "author", "source", "catid"]
# labels whose UCS category word matching gets plainly wrong, checked by hand: (regex in the label, CatID)
SHARED_CATIDS: tuple[tuple[str, str], ...] = (
    (r"^(factory|train|steam) whistle", "WHSTMech"), (r"^whistle$", "WHSTHmn"), (r"^toy squeak", "TOYMech"),
    (r"^glass (rub|hum|water)$", "GLASTonl"), (r"^dug glass$", "GLASImpt"), (r"wings? flap", "WINGBird"),
    (r"^zipper$", "FOLYClth"), (r"^balloon inflate$", "TOYMisc"), (r"^(grenade|rock) throw$", "WEAPMisc"),
)


def licence_of(text: str) -> str | None:
    """The name in ``ALLOWED`` for a licence as the labelled collection writes it, or None."""
    text = text.strip()
    if "per-mod" in text or "see " in text or "OGA" in text:
        return None
    if "SA" in text or "ShareAlike" in text:
        return "CC BY-SA 4.0" if re.search(r"\bSA[ -]4\.0\b", text) else None
    if "CC0" in text or "Zero" in text:
        return "CC0"
    found = re.fullmatch(r"(?:CC BY|Creative Commons Attribution)(?: (\d\.\d))?(?: Unported| International)?", text)
    if found:
        return f"CC BY {found.group(1)}" if found.group(1) else "CC BY"
    return None


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:48] or "sound"


@dataclass(frozen=True)
class Source:
    """One recording to take: where it is read from and what it is."""

    label: str
    licence: str
    author: str
    origin: str  # for the credits: collection or package and the original path
    file: Path
    member: str | None = None  # inside an archive
    ucs: tuple[str, ...] = ()  # UCS categories its package's sounds belong to, tried first
    catids: tuple[tuple[str, str], ...] = ()  # (regex in the label, CatID): hand-checked where word matching errs


def shared_sources(folder: Path) -> Iterator[Source]:
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        licence = licence_of(row["license"])
        label = re.sub(r"^(default|doors|env sounds|xpanes|carts|fire|tnt|misc|perc|ambi|Toyland|Tropical):?\s+", "",
                       row["label"].strip(), flags=re.I)
        author = row["author"].strip()
        if licence is None or EXCLUDE.match(label) or (not author and licence not in ("CC0", "public domain")):
            continue  # attribution licences need the author the collection does not name
        yield Source(label, licence, author or "not named by the source (CC0)", row["source"], folder / row["path"],
                     catids=SHARED_CATIDS)


def debian_sources(folder: Path, packages: tuple[Package, ...] = PACKAGES) -> Iterator[Source]:
    for package in packages:
        root = folder / package.name
        if not root.is_dir():
            raise SystemExit(f"{root} is missing: run python -m sfxcli.library.debian {folder}")
        for found, file, member in candidates(package, root):
            yield Source(found.label, found.licence, found.author,
                         f"Debian {found.package} {found.version}: {found.path}", file, member, package.ucs,
                         package.catids + SHARED_CATIDS)


def read_mono(source: Source) -> tuple[np.ndarray, int] | None:
    """The recording as mono float64, or None when it cannot be read."""
    import soundfile as sf

    try:
        if source.member is not None:
            with zipfile.ZipFile(source.file) as archive:
                data = io.BytesIO(archive.read(source.member))
            audio, rate = sf.read(data, dtype="float64", always_2d=True)
        else:
            audio, rate = sf.read(source.file, dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError, KeyError, zipfile.BadZipFile):
        return None
    return audio.mean(axis=1), int(rate)


def prepare(mono: np.ndarray, rate: int) -> np.ndarray | None:
    """Trimmed, cut to 8 s, resampled to 44.1 kHz, faded and peak-normalised; None for silence or a blip."""
    import soxr

    peak = float(np.max(np.abs(mono))) if len(mono) else 0.0
    if peak < 1e-3:
        return None
    loud = np.flatnonzero(np.abs(mono) > peak * 10 ** (-50 / 20))
    pad = int(0.01 * rate)
    mono = mono[max(0, loud[0] - pad): loud[-1] + pad + 1][: int(MAX_SECONDS * rate)]
    if len(mono) < 0.05 * rate:
        return None
    out = soxr.resample(mono, rate, RATE) if rate != RATE else mono.copy()
    out = out / max(float(np.max(np.abs(out))), 1e-9) * PEAK
    fade = min(len(out), int(0.01 * RATE))
    out[-fade:] *= np.linspace(1, 0, fade)
    return out


def fingerprint(audio: np.ndarray, frames: int = 96, bands: int = 24) -> np.ndarray:
    """A unit vector of the first 3 s's log spectrogram (time x bands), to find near-identical recordings."""
    import soxr
    from scipy.signal import stft

    low = soxr.resample(audio, RATE, 8000)[: 3 * 8000]
    _, _, spectrum = stft(low, fs=8000, nperseg=256, noverlap=0)
    power = np.abs(spectrum) ** 2  # (129, t)
    edges = np.linspace(1, power.shape[0], bands + 1).astype(int)
    banded = np.stack([power[a:b].mean(axis=0) for a, b in zip(edges[:-1], edges[1:], strict=True)])
    log = np.log10(banded + 1e-6 * float(banded.max()) + 1e-12)[:, :frames]  # 60 dB below the peak at most
    grid = np.zeros((bands, frames))
    grid[:, : log.shape[1]] = log - log.mean()  # frames past the end add nothing to a correlation
    return (grid / max(float(np.linalg.norm(grid)), 1e-9)).ravel()


def catid_for(label: str, preferred: tuple[str, ...], fixed: tuple[tuple[str, str], ...] = ()) -> str:
    """The label's UCS CatID: a hand-checked one where given, else inside its package's categories when one
    matches well, else anywhere."""
    from sfxcli.labels import tokens, ucs_for

    for pattern, catid in fixed:
        if re.search(pattern, label, re.I):
            return catid
    enough = min(2.0, float(len(tokens(label))))
    if preferred:
        found, score = ucs_for(label, preferred)
        if found is not None and score >= enough:
            return found.catid
    found, score = ucs_for(label)
    return found.catid if found is not None and score >= 1.0 else ""


def build(sources: list[Source], dest: Path) -> list[dict[str, str]]:
    import soundfile as sf

    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("*.ogg"):
        old.unlink()
    kept: list[dict[str, str]] = []
    prints = np.zeros((len(sources), 24 * 96), dtype=np.float32)  # fingerprints of the recordings kept so far
    lengths = np.zeros(len(sources))
    used: dict[str, int] = {}
    for source in sources:
        assert source.licence in ALLOWED, source
        read = read_mono(source)
        audio = prepare(*read) if read is not None else None
        if audio is None:
            continue
        vector = fingerprint(audio)
        seconds = len(audio) / RATE
        n = len(kept)
        close = np.abs(lengths[:n] - seconds) <= 0.15 * max(seconds, 0.2)
        if close.any() and float(np.max(prints[:n][close] @ vector)) > DUPLICATE_CORRELATION:
            continue
        prints[n] = vector
        lengths[n] = seconds
        name = slug(source.label)
        used[name] = used.get(name, 0) + 1
        file = f"{name}-{used[name]:02d}.ogg"
        sf.write(dest / file, audio, RATE, format="OGG", subtype="VORBIS", compression_level=COMPRESSION_LEVEL)
        kept.append({"path": file, "label": source.label, "license": source.licence, "author": source.author,
                     "source": source.origin, "catid": catid_for(source.label, source.ucs, source.catids)})
    return kept


def write_records(kept: list[dict[str, str]], dest: Path) -> None:
    with open(dest / "manifest.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(kept)
    used = sorted({k["license"] for k in kept})
    lines = ["# Credits for the built-in library", "",
             f"{len(kept)} recordings, converted to mono Ogg Vorbis (44.1 kHz, quality 0.3, edge silence trimmed, "
             "at most 8 s, peak-normalised to -1 dBFS). Each row names the licence, the author (copyright holder) "
             "and where the original came from: a Debian package (name, version and path inside it; its "
             "`/usr/share/doc/PACKAGE/copyright` states the licence) or a labelled collection.", "",
             "## Licences", ""]
    lines += [f"- **{name}**: {LICENCE_LINKS[name]} ({sum(k['license'] == name for k in kept)} recordings)" for name in used]
    lines += ["", "GPL and LGPL recordings are distributed under those licences' terms; their full texts are at the "
              "links above (and in `/usr/share/common-licenses` on Debian systems).", "",
              "## Recordings", "", "| file | label | licence | author | source |", "|---|---|---|---|---|"]
    cell = lambda text: text.replace("|", "/").replace("\n", " ")  # noqa: E731
    lines += [f"| {k['path']} | {cell(k['label'])} | {k['license']} | {cell(k['author'])} | {cell(k['source'])} |"
              for k in kept]
    (dest / "CREDITS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the built-in sound library.")
    parser.add_argument("source", type=Path, help="labelled collection with manifest.csv (../shared/data/sfx)")
    parser.add_argument("dest", type=Path, help="where the library goes (sfxcli/data/library)")
    parser.add_argument("--debian", type=Path, help="folder of unpacked Debian packages (python -m sfxcli.library.debian DIR)")
    args = parser.parse_args(argv)
    sources = list(shared_sources(args.source))
    if args.debian is not None:
        sources += list(debian_sources(args.debian))
    kept = build(sources, args.dest)
    write_records(kept, args.dest)
    size = sum(p.stat().st_size for p in args.dest.iterdir() if p.is_file())
    print(f"{len(kept)} recordings in {args.dest}, {size / 1e6:.1f} MB (budget {SIZE_BUDGET_BYTES / 1e6:.0f} MB)")
    if size > SIZE_BUDGET_BYTES:
        raise SystemExit("over the size budget: lower the quality or take fewer recordings")


if __name__ == "__main__":
    main()

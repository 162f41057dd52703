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

Labels come from the collection's own (:data:`COLLECTION_LABELS` fixes the
ones its file names get wrong) and from each package's table in
``sfxcli.library.debian``; CatIDs from the hand-checked rules in
``sfxcli.library.catids`` (the run names any label that only UCS word
matching placed).

Writes ``manifest.csv`` (path, label, licence, author, source, the label's
UCS CatID, which the index reads, and the source's hash) and ``CREDITS.md``.
A rebuild keeps every Ogg whose source and conversion are unchanged byte for
byte (see :func:`build`), so relabelling touches only the manifest and the
credits, and the Oggs whose labels changed are renamed, not re-encoded.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import inspect
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfxcli.library.catids import catid_for
from sfxcli.library.debian import ALLOWED, LICENCE_LINKS, PACKAGES, Package, candidates

MAX_SECONDS = 8.0
RATE = 44100
COMPRESSION_LEVEL = 0.7  # libsndfile's scale: Vorbis quality 1 - 0.7 = 0.3
PEAK = 0.89  # -1 dBFS
SIZE_BUDGET_BYTES = 45 * 10**6
DUPLICATE_CORRELATION = 0.97
EXCLUDE = re.compile(r"^(loop|guit|piano|bass |tabla|sn |bd |elec (hi|lo|mid|filt) snare|glitch bass|mehackit phone)", re.I)
FIELDS = ["path", "label", "license", "author", "source", "catid", "source_hash"]
# labels of the labelled collection that its file names get wrong or leave vague, checked by hand:
# (regex searched in the file's path inside the collection, label; "\\1" takes a group of the path; "" leaves
# the file out: a jingle, a data file, or a name that says too little)
COLLECTION_LABELS: tuple[tuple[str, str], ...] = (
    # mod-sounds
    (r"sounds_camel", "camel grunt"), (r"sounds_yak", "yak grunt"), (r"sounds_ar_burst", "assault rifle burst"),
    (r"sounds_ar_fire", "assault rifle shot"), (r"sounds_chicken", "chicken cluck"), (r"sounds_frog", "frog croak"),
    (r"sounds_bat_\d", "bat squeak"), (r"sounds_cobra", "cobra hiss"), (r"sounds_bear", "bear growl"),
    (r"sounds_bird_\d", "bird chirp"), (r"sounds_entity_hit", "body hit"), (r"sounds_melee_hit", "melee punch hit"),
    (r"node_dig_cracky", "pickaxe stone dig"), (r"node_dig_snappy", "plant snap dig"),
    (r"node_dig_choppy", "axe wood chop"), (r"node_dig_gravel", "gravel dig"), (r"node_dug_gravel", "gravel shovel dug"),
    (r"node_dig_ice", "ice dig"), (r"node_dug_ice", "ice break"), (r"node_dig_metal", "metal dig clang"),
    (r"node_dug_metal", "metal dug clang"), (r"node_dug_glass", "glass break"), (r"node_step_(\w+?)\.", "footstep \\1"),
    (r"sounds_tool_break", "tool break snap"), (r"sounds_mouse", "mouse squeak"), (r"zombie_damage", "zombie pain grunt"),
    (r"sounds_fuse_short", "short fuse burning"), (r"sounds_fuse\.", "fuse burning"), (r"sounds_leaves", "leaves rustle"),
    (r"sounds_woosh", "whoosh"), (r"sounds_coin", "coin drop"), (r"sounds_laugh_evil", "evil laugh"),
    (r"sounds_explosion_distant", "distant explosion"), (r"raccoon_chatter_baby", "baby raccoon chatter"),
    (r"sounds_rain_(heavy|light|medium)", "\\1 rain"), (r"sounds_(jaguar|leopard)_saw", "\\1 sawing call"),
    (r"sounds_compressor_motor", "air compressor motor"), (r"sounds_car_motor", "car engine"),
    (r"sounds_vehicle_motor_idle", "vehicle engine idle"), (r"sounds_(pistol|rifle)_fire_dry", "\\1 dry fire click"),
    (r"sounds_rifle_fire_cock", "rifle shot and cock"), (r"sounds_shotgun_fire_pump", "shotgun shot and pump"),
    (r"sounds_skeleton_bones", "skeleton bones rattle"), (r"sounds_mermaid_song", "mermaid singing"),
    (r"sounds_gallop", "horse gallop"), (r"sounds_fireball", "fireball whoosh"), (r"sounds_shears", "shears snip"),
    (r"sounds_ricochet", "bullet ricochet"), (r"sounds_robot_\d", "robot"), (r"sounds_laser_\d", "laser shot"),
    (r"sounds_canary", "canary chirp"), (r"sounds_bees?\.", "bee buzz"), (r"sounds_lamb", "lamb bleat"),
    # sonic-pi-samples
    (r"perc_bell", "bell hit"), (r"misc_cineboom", "cinematic boom"), (r"misc_crow", "crow caw"),
    (r"ambi_dark_woosh", "dark whoosh"), (r"perc_door", "door knock"), (r"ambi_choir", "choir ambience"),
    (r"drum_bass_(hard|soft)", "bass drum kick \\1"), (r"drum_cowbell", "cowbell"),
    (r"drum_cymbal_closed", "closed hi hat"), (r"drum_cymbal_open", "open hi hat"), (r"drum_cymbal_pedal", "hi hat pedal"),
    (r"drum_cymbal_(hard|soft)", "crash cymbal \\1"), (r"drum_heavy_kick", "heavy kick drum"),
    (r"drum_snare_(hard|soft)", "snare drum \\1"), (r"drum_splash_(hard|soft)", "splash cymbal \\1"),
    (r"drum_tom_(hi|mid|lo)_(hard|soft)", "\\1 tom drum \\2"), (r"elec_(fuzz_tom|snare|hollow_kick|soft_kick)",
                                                                     "electronic \\1 drum"),
    (r"elec_(flip|twip)", "electronic \\1 blip"), (r"elec_wood", "electronic wood block"),
    (r"elec_([a-z]+)", "electronic \\1"), (r"glitch_perc", "glitch percussion"), (r"glitch_robot", "glitch robot"),
    (r"perc_impact", "impact hit"), (r"ambi_lunar_land", "lunar landing ambience"), (r"mehackit_robot", "robot bleeps"),
    (r"rand-stream", ""), (r"ambi_sauna", "sauna ambience"), (r"perc_snap", "finger snap"),
    (r"perc_swash", "cymbal swash"), (r"perc_till", "cash register till"),
    # openttd-opensfx
    (r"osfx_0[01]_(good|bad)_year", ""), (r"sugar_mine", "toyland sugar mine machine"), (r"toy_factory", "toy factory machine"),
    (r"bubble_generated", "bubble generator"), (r"toffee_quarry", "toffee quarry machine"),
    (r"bubble_slurped", "bubble slurp"), (r"plastic_mine", "plastic mine machine"),
    (r"road_vehicle_breakdown", "vehicle breakdown"), (r"train_ship_breakdown", "engine breakdown"),
    (r"comedy_(bus|truck)_start", "cartoon \\1 start"), (r"tropical_bird", "tropical bird"),
    (r"mach_1_jet", "supersonic jet take off"), (r"cash_till", "cash register till"), (r"osfx_\d+_cow", "cow moo"),
    (r"osfx_\d+_sheep", "sheep bleat"), (r"osfx_\d+_horse", "horse neigh"), (r"oooh_sound", "crowd oooh"),
    (r"_splat_", "construction splat"), (r"steam_of_steam_engine", "steam engine hiss"),
    (r"morse", "morse code beeps"), (r"level_crossing", "level crossing bell"),
    (r"plane_wheels_touching_ground", "plane landing wheels touchdown"), (r"building_bridge", "bridge construction"),
    (r"lumber_mill_chainsaw", "chainsaw"), (r"lumber_mill_falling_tree", "tree falling"),
    (r"lumber_mill_crashing_tree", "tree crash"),
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
        label = collection_label(row["path"], row["label"])
        author = row["author"].strip()
        own = re.sub(r"^(misc|perc|ambi)\s+", "", row["label"].strip(), flags=re.I)
        if licence is None or not label or EXCLUDE.match(own) or (not author and licence not in ("CC0", "public domain")):
            continue  # attribution licences need the author the collection does not name
        yield Source(label, licence, author or "not named by the source (CC0)", row["source"], folder / row["path"])


def collection_label(path: str, label: str) -> str:
    """The label for a file of the labelled collection: the hand-checked one where :data:`COLLECTION_LABELS` has
    it, else the collection's own, lower case, without its numbering or a "Package: " prefix."""
    for pattern, fixed in COLLECTION_LABELS:
        found = re.search(pattern, path)
        if found:
            return found.expand(fixed).replace("_", " ") if fixed else ""
    label = re.sub(r"^[\w ]+:\s+|^(misc|perc|ambi)\s+", "", label.strip(), flags=re.I).lower()
    label = re.sub(r"\(\d+\)|\b\d+\b|[/,()]", " ", label)
    return " ".join(label.split())


def debian_sources(folder: Path, packages: tuple[Package, ...] = PACKAGES) -> Iterator[Source]:
    for package in packages:
        root = folder / package.name
        if not root.is_dir():
            raise SystemExit(f"{root} is missing: run python -m sfxcli.library.debian {folder}")
        for found, file, member in candidates(package, root):
            yield Source(found.label, found.licence, found.author,
                         f"Debian {found.package} {found.version}: {found.path}", file, member, package.ucs,
                         package.catids)


def read_bytes(source: Source) -> bytes | None:
    """The original file's bytes (an archive member's, for one inside an archive), or None when unreadable."""
    try:
        if source.member is not None:
            with zipfile.ZipFile(source.file) as archive:
                return archive.read(source.member)
        return source.file.read_bytes()
    except (OSError, KeyError, zipfile.BadZipFile):
        return None


def decode_mono(data: bytes) -> tuple[np.ndarray, int] | None:
    """A file's audio as mono float64, or None when it cannot be decoded."""
    import soundfile as sf

    try:
        audio, rate = sf.read(io.BytesIO(data), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError):
        return None
    return audio.mean(axis=1), int(rate)


def source_hash(data: bytes) -> str:
    """What an Ogg of the library is made from: the original's bytes, the conversion settings and the code of
    :func:`prepare` (so that changing how recordings are converted converts them all again)."""
    settings = repr((RATE, COMPRESSION_LEVEL, MAX_SECONDS, PEAK, inspect.getsource(prepare)))
    return hashlib.sha256(settings.encode() + b"\0" + data).hexdigest()


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


@dataclass(frozen=True)
class Built:
    """What :func:`build` did: the manifest rows, and how many Oggs it kept, renamed and converted."""

    rows: list[dict[str, str]]
    unchanged: int
    renamed: int
    converted: int
    guessed: tuple[str, ...]  # "label -> CatID" for labels that no hand-checked rule gives a CatID


def build(sources: list[Source], dest: Path) -> Built:
    """Convert the sources that are not near-duplicates of an earlier one into ``dest``.

    An Ogg already in ``dest`` whose manifest row has the same source and :func:`source_hash` is kept byte for
    byte (renamed when its label changed): relabelling the library rewrites only the manifest and credits.
    Oggs that no row names any more are removed.
    """
    import soundfile as sf

    dest.mkdir(parents=True, exist_ok=True)
    before = _previous_rows(dest)
    kept: list[dict[str, str]] = []
    encode: dict[str, np.ndarray] = {}  # new file name -> audio to convert
    reuse: dict[str, str] = {}  # new file name -> the file in dest that already holds it
    prints = np.zeros((len(sources), 24 * 96), dtype=np.float32)  # fingerprints of the recordings kept so far
    lengths = np.zeros(len(sources))
    used: dict[str, int] = {}
    guessed: set[str] = set()
    for source in sources:
        assert source.licence in ALLOWED, source
        data = read_bytes(source)
        read = decode_mono(data) if data is not None else None
        audio = prepare(*read) if read is not None else None
        if data is None or audio is None:
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
        digest = source_hash(data)
        catid, how = catid_for(source.label, source.catids, source.ucs)
        if how in ("words", ""):
            guessed.add(f"{source.label} -> {catid or '-'}")
        old = before.get((source.origin, digest))
        if old is not None and (dest / old).is_file():
            reuse[file] = old
        else:
            encode[file] = audio
        kept.append({"path": file, "label": source.label, "license": source.licence, "author": source.author,
                     "source": source.origin, "catid": catid, "source_hash": digest})
    unchanged = {file: (dest / old).read_bytes() for file, old in reuse.items()}  # before any file is replaced
    for old_file in dest.glob("*.ogg"):
        if unchanged.get(old_file.name) != old_file.read_bytes():
            old_file.unlink()
    for file, content in unchanged.items():
        if not (dest / file).is_file():
            (dest / file).write_bytes(content)
    for file, audio in encode.items():
        sf.write(dest / file, audio, RATE, format="OGG", subtype="VORBIS", compression_level=COMPRESSION_LEVEL)
    return Built(kept, len(unchanged), sum(reuse[f] != f for f in reuse), len(encode), tuple(sorted(guessed)))


def _previous_rows(dest: Path) -> dict[tuple[str, str], str]:
    """(source, source hash) -> file of the manifest already in ``dest``; empty when there is none."""
    manifest = dest / "manifest.csv"
    if not manifest.is_file():
        return {}
    with open(manifest, newline="", encoding="utf-8") as handle:
        return {(row["source"], row["source_hash"]): row["path"] for row in csv.DictReader(handle)
                if row.get("source_hash")}


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
    built = build(sources, args.dest)
    write_records(built.rows, args.dest)
    size = sum(p.stat().st_size for p in args.dest.iterdir() if p.is_file())
    print(f"{len(built.rows)} recordings in {args.dest}, {size / 1e6:.1f} MB (budget {SIZE_BUDGET_BYTES / 1e6:.0f} MB): "
          f"{built.unchanged} kept as they were ({built.renamed} renamed), {built.converted} converted")
    if built.guessed:
        print(f"{len(built.guessed)} labels have their CatID from UCS word matching alone (or none): check them and "
              "add rules to sfxcli/library/catids.py: " + "; ".join(built.guessed))
    if size > SIZE_BUDGET_BYTES:
        raise SystemExit("over the size budget: lower the quality or take fewer recordings")


if __name__ == "__main__":
    main()

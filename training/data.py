"""Training data: manifests, VimSketch, synthetic imitations and augmentation.

A dataset a user can make by hand is a folder with a CSV manifest:

    label,sound,imitation
    door creak,sounds/door_01.wav,takes/door_01_me.wav
    glass smash,sounds/glass.flac,

``sound`` (or ``path``, as in sound-library manifests) is required,
``imitation`` optional; relative paths start from the manifest's folder.
Rows without an imitation get synthetic ones.

Synthetic imitations are what a person does when imitating a sound: a voice
(a buzzy tone with breath) that follows the sound's loudness, pitch movement
and brightness, rendered by the embedded engine's general-purpose voice
recipe. Augmentation (pedalboard) then varies them as real takes vary, and a
result is kept only if it is audible and still follows the sound's level
contour.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sfxcli.audio import AUDIO_SUFFIXES
from sfxcli.errors import DataError


@dataclass(frozen=True)
class Example:
    label: str
    sound: Path
    imitation: Path | None = None  # None: synthesise one


SOUND_COLUMNS = ("sound", "path")


def read_manifest(path: Path) -> list[Example]:
    """Rows of a manifest CSV; every bad row is reported (up to five) and nothing is returned."""
    path = path.expanduser()
    if not path.is_file():
        raise DataError(f"no manifest at {path}", "a manifest is a CSV with columns label, sound and optional imitation")
    root = path.parent.resolve()
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path}: cannot read the manifest: {error}") from None
    sound_column = next((c for c in SOUND_COLUMNS if c in columns), None)
    if "label" not in columns or sound_column is None:
        missing = [c for c in ("label", "sound") if c not in columns and not (c == "sound" and sound_column)]
        raise DataError(f"{path}: missing column(s) {', '.join(missing)} (has: {', '.join(columns) or 'none'})",
                        "the header must name label, sound (or path) and, optionally, imitation")
    examples: list[Example] = []
    problems: list[str] = []
    for line, row in enumerate(rows, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        label, sound, imitation = row.get("label", ""), row.get(sound_column, ""), row.get("imitation", "")
        problem = None
        if not label:
            problem = "empty label"
        elif not sound:
            problem = f"empty {sound_column}"
        else:
            problem = _check_file(root, sound) or (_check_file(root, imitation) if imitation else None)
        if problem:
            problems.append(f"line {line}: {problem}")
            continue
        examples.append(Example(label, (root / sound).expanduser().absolute(),
                                (root / imitation).expanduser().absolute() if imitation else None))
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise DataError(f"{path}: {len(problems)} bad row(s): {'; '.join(problems[:5])}{more}",
                        "fix or remove those rows; relative paths start from the manifest's folder")
    if not examples:
        raise DataError(f"{path}: no rows", "add one row per sound: label, sound[, imitation]")
    return examples


def _check_file(root: Path, relative: str) -> str | None:
    candidate = (root / relative).expanduser()
    if not candidate.is_file():
        return f"{relative} does not exist"
    if candidate.suffix.lower() not in AUDIO_SUFFIXES:
        return f"{relative} is not wav, flac, ogg, mp3 or aiff"
    return None


def read_vimsketch(root: Path) -> list[Example]:
    """VimSketch's published layout: ``references/`` and ``vocal_imitations/``, paired by name.

    Each file is ``<prefix>_<reference name>.wav``; an imitation belongs to
    the reference whose name after the first ``_`` is the same. The lists
    ``reference_file_names.csv`` and ``vocal_imitation_file_names.csv`` are
    used when present, else the folders are listed. The label is the
    reference name in words.
    """
    root = root.expanduser()
    references = _listing(root, "references", "reference_file_names.csv")
    imitations = _listing(root, "vocal_imitations", "vocal_imitation_file_names.csv")
    if not references or not imitations:
        raise DataError(f"{root} is not a VimSketch folder (needs references/ and vocal_imitations/ with audio)")
    by_name = {_reference_name(name): root / "references" / name for name in references}
    examples = [Example(_label(_reference_name(name)), by_name[_reference_name(name)], root / "vocal_imitations" / name)
                for name in imitations if _reference_name(name) in by_name]
    if not examples:
        raise DataError(f"{root}: no imitation matches a reference by name")
    return examples


def _listing(root: Path, folder: str, listing: str) -> list[str]:
    if (root / listing).is_file():
        names = [line.strip() for line in (root / listing).read_text().splitlines() if line.strip()]
        return [n for n in names if (root / folder / n).is_file()]
    if not (root / folder).is_dir():
        return []
    return sorted(p.name for p in (root / folder).iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)


def _reference_name(filename: str) -> str:
    return "_".join(filename.split("_")[1:])


def _label(reference_name: str) -> str:
    words = Path(reference_name).stem.replace("_", " ").split()
    return " ".join(words).strip() or Path(reference_name).stem


# -- synthetic imitations -------------------------------------------------------------------------

def synthetic_imitation(sound: np.ndarray, sample_rate: int, seed: int, rate: int = 16000) -> np.ndarray:
    """A voice-like take that follows ``sound``: level, pitch movement and brightness, seeded."""
    from sfxcli.analysis import analyse, controls_from_curves
    from sfxcli.engines.embedded import EmbeddedEngine
    from sfxcli.post import follow_envelope
    from sfxcli.presets import load_recipe

    curves = analyse(sound, sample_rate)
    controls = controls_from_curves(curves)
    rng = np.random.default_rng(seed)
    voice = EmbeddedEngine().render(controls, load_recipe("texture"), int(rng.integers(2**31)), rate,
                                    controls.duration_seconds).audio
    voice = follow_envelope(voice, rate, controls.gain, 1.0)
    peak = float(np.max(np.abs(voice)))
    return voice / peak * 0.5 if peak > 0 else voice


# -- augmentation ---------------------------------------------------------------------------------

AUGMENTATIONS = ("pitch", "stretch", "noise", "reverb", "echo", "distortion", "eq", "level")


@dataclass(frozen=True)
class AugmentConfig:
    per_example: int = 2  # augmentations applied to each take (drawn without repeats)
    max_pitch_semitones: float = 3.0
    max_stretch: float = 0.15  # time stretch by up to +/-15 %
    min_snr_db: float = 15.0
    min_level_r: float = 0.5  # keep only results whose level contour still follows the original's


@dataclass(frozen=True)
class Augmented:
    audio: np.ndarray
    applied: tuple[str, ...]
    rejected: str | None = None  # why the result was thrown away (then ``audio`` is the input)


def augment(audio: np.ndarray, sample_rate: int, seed: int, config: AugmentConfig = AugmentConfig()) -> Augmented:
    """Random pedalboard transformations; results that are silent or lost the content are refused."""
    import pedalboard as pb

    from sfxcli.analysis import loudness_correlation

    rng = np.random.default_rng(seed)
    names = tuple(rng.choice(AUGMENTATIONS, size=min(config.per_example, len(AUGMENTATIONS)), replace=False))
    x = np.asarray(audio, dtype=np.float32)
    stretched = 1.0
    for name in names:
        if name == "pitch":
            x = pb.PitchShift(semitones=float(rng.uniform(-1, 1) * config.max_pitch_semitones))(x, sample_rate)
        elif name == "stretch":
            stretched = float(1.0 + rng.uniform(-1, 1) * config.max_stretch)
            x = pb.time_stretch(x, sample_rate, stretch_factor=stretched)[0]
        elif name == "noise":
            level = np.sqrt(np.mean(x**2)) * 10 ** (-rng.uniform(config.min_snr_db, 40.0) / 20)
            x = x + rng.standard_normal(len(x)).astype(np.float32) * level
        elif name == "reverb":
            x = pb.Reverb(room_size=float(rng.uniform(0.1, 0.6)), wet_level=float(rng.uniform(0.05, 0.3)))(x, sample_rate)
        elif name == "echo":
            x = pb.Delay(delay_seconds=float(rng.uniform(0.05, 0.25)), feedback=float(rng.uniform(0.1, 0.4)),
                         mix=float(rng.uniform(0.1, 0.3)))(x, sample_rate)
        elif name == "distortion":
            x = pb.Distortion(drive_db=float(rng.uniform(3, 18)))(x, sample_rate)
        elif name == "eq":
            x = pb.PeakFilter(cutoff_frequency_hz=float(np.exp(rng.uniform(np.log(200), np.log(6000)))),
                              gain_db=float(rng.uniform(-9, 9)), q=1.0)(x, sample_rate)
        elif name == "level":
            x = x * float(10 ** (rng.uniform(-18, 0) / 20))
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if not np.all(np.isfinite(x)) or peak < 10 ** (-60 / 20):
        return Augmented(np.asarray(audio, dtype=np.float64), names, "silent or non-finite")
    if peak > 1.0:
        x = x / peak
    if stretched == 1.0:
        r = loudness_correlation(np.asarray(audio, dtype=np.float64), x, sample_rate, sample_rate)
        if not np.isfinite(r) or r < config.min_level_r:
            return Augmented(np.asarray(audio, dtype=np.float64), names, f"level contour lost (r {r:.2f})")
    return Augmented(x, names)

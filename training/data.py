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
from typing import TYPE_CHECKING

import numpy as np

from sfxcli.audio import AUDIO_SUFFIXES
from sfxcli.errors import DataError

if TYPE_CHECKING:
    from sfxcli.analysis import Curves
    from training.voices import Take


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


# -- spoken imitations of a reference ---------------------------------------------------------------

# espeak-ng phoneme strings ([[...]] input) by what an event sounds like and how bright it is
NOISY_SYLLABLES = {"bright": ("s:", "ts:", "ks:"), "mid": ("S:", "tS:", "S"), "dark": ("f:", "x:", "h:")}
IMPULSIVE_SYLLABLES = {"bright": ("t", "ti", "k", "tsk"), "mid": ("t@", "k@", "tV", "kA:"), "dark": ("p@", "pu", "bu", "dV")}
TONAL_SYLLABLES = {"bright": ("i:", "E", "ni:"), "mid": ("A:", "lA:", "@"), "dark": ("u:", "O:", "bu:")}
BRIGHT_HZ = 3500.0  # a sound's centroid above this is bright, below DARK_HZ dark
DARK_HZ = 1200.0
NOTE_SECONDS = 0.3  # a tonal event is sung as legato notes this long, each at the sound's pitch there
MAX_EVENTS = 24
SPOKEN_VERSION = 3  # bump when spoken_imitation changes: training caches keyed on it are rebuilt


@dataclass(frozen=True)
class Event:
    """One event of a sound: where it starts and how long it sounds, and what it is like."""

    start_seconds: float
    duration_seconds: float
    level_db: float  # the event's peak below the sound's
    character: str  # "noisy", "impulsive" or "tonal"
    shade: str  # "bright", "mid" or "dark"
    pitch_hz: np.ndarray  # per NOTE_SECONDS of a tonal event, 0 where unvoiced


def sound_events(curves: Curves) -> list[Event]:
    """A sound's events from its analysis: one per onset (or one from the first audible frame), each classified.

    An event lasts until the next onset or until its level falls 30 dB below
    its peak; it is *impulsive* when it sounds for under 0.15 s, *tonal*
    when most of it is pitched, else *noisy*; its shade comes from its
    spectral centroid.
    """
    rate, loud = curves.frame_rate, curves.loudness_db
    peak = float(loud.max())
    audible = np.flatnonzero(loud > peak - 40.0)
    starts = [int(round(t * rate)) for t in curves.onsets_seconds]
    if not starts or (audible.size and audible[0] < starts[0] - rate // 10):
        starts.insert(0, int(audible[0]) if audible.size else 0)
    starts = sorted(set(min(s, len(loud) - 1) for s in starts))[:MAX_EVENTS]
    events = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(loud)
        span = loud[start:end]
        top = int(np.argmax(span))
        quiet = np.flatnonzero(span[top:] < span[top] - 30.0)
        stop = start + top + (int(quiet[0]) if quiet.size else len(span) - top)
        frames = slice(start, max(stop, start + 1))
        duration = (stop - start) / rate
        voiced = float(np.mean(curves.pitch_hz[frames] > 0))
        character = "impulsive" if duration < 0.15 else "tonal" if voiced > 0.5 else "noisy"
        centroid = float(np.median(curves.centroid_hz[frames]))
        shade = "bright" if centroid > BRIGHT_HZ else "dark" if centroid < DARK_HZ else "mid"
        step = max(1, int(NOTE_SECONDS * rate))
        pitch = curves.pitch_hz[frames]
        notes = np.array([np.median(p[p > 0]) if np.any(p > 0) else 0.0
                          for p in (pitch[j:j + step] for j in range(0, len(pitch), step))])
        events.append(Event(start / rate, max(duration, 0.03), float(span[top]) - peak, character, shade, notes))
    return events


def _fit(piece: np.ndarray, sample_rate: int, seconds: float, grain_seconds: float = 0.06) -> np.ndarray:
    """PIECE brought to SECONDS: cut short with a fade, or held on by looping grains of its middle (as a held hiss or vowel is)."""
    target = int(seconds * sample_rate)
    grain = min(int(grain_seconds * sample_rate), len(piece) // 2) // 2 * 2
    if target <= 0 or grain < sample_rate // 200 or abs(target - len(piece)) < sample_rate // 50:
        return piece
    if target < len(piece):
        return _fade_out(piece[:target], sample_rate)
    hop = grain // 2
    window = np.hanning(grain).astype(np.float32)
    head, tail = len(piece) // 4, len(piece) - len(piece) // 4
    middle = piece[head:tail]
    extra = target - len(piece)
    held = np.zeros(extra + grain, np.float32)
    rng = np.random.default_rng(len(piece))  # grains drawn from the piece's own middle, reproducibly
    for start in range(0, extra, hop):
        at = int(rng.integers(0, max(1, len(middle) - grain)))
        held[start:start + grain] += middle[at:at + grain] * window
    return np.concatenate([piece[:tail], held[hop:extra + hop], piece[tail:]]).astype(np.float32)


def _fade_out(piece: np.ndarray, sample_rate: int, seconds: float = 0.03) -> np.ndarray:
    n = min(len(piece), int(seconds * sample_rate))
    out = piece.astype(np.float32).copy()
    out[len(out) - n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
    return out


def _espeak_pitch(pitch_hz: float, median_hz: float, base: int) -> int:
    """espeak-ng's -p (0..99, about 6 steps a semitone) for a note: the voice's base moved with the sound's pitch."""
    if pitch_hz <= 0 or median_hz <= 0:
        return base
    return int(np.clip(base + 6.0 * 12.0 * np.log2(pitch_hz / median_hz), 2, 98))


def spoken_imitation(sound: np.ndarray, sample_rate: int, seed: int, label: str = "",
                     rate: int = 16000) -> Take:
    """A person imitating SOUND by voice, made with espeak-ng: one syllable per event, at the event's time.

    Noisy events become a held "s", "sh" or "f" (by brightness), impulsive
    ones "t", "k" or "p" with a short vowel, tonal ones held vowels sung as
    legato notes whose espeak pitch (-p) follows the sound's pitch. Held
    syllables are cut or held on to their event's length, and each is set at
    its event's level;
    the whole is then shaped by the sound's loudness contour and put in a
    room with breaths and room noise (``training.voices``). The take's
    ``onsets_seconds`` are where its syllables start.
    """
    from sfxcli.analysis import analyse, controls_from_curves
    from sfxcli.post import follow_envelope
    from training.voices import Take, Voice, _fade, _finish, draw_room, draw_voice, speak

    rng = np.random.default_rng(seed)
    voice = draw_voice(rng)
    curves = analyse(sound, sample_rate)
    events = sound_events(curves)
    voiced = np.concatenate([e.pitch_hz[e.pitch_hz > 0] for e in events] + [np.zeros(0)])
    median_hz = float(np.median(voiced)) if voiced.size else 0.0
    duration = len(sound) / sample_rate
    dry = np.zeros(int((duration + 0.6) * rate), dtype=np.float32)
    onsets, words = [], []
    for event in events:
        if event.character == "tonal":
            pieces = []
            for hz in event.pitch_hz:
                syllable = str(rng.choice(TONAL_SYLLABLES[event.shade]))
                note = Voice(voice.name, voice.rate_wpm, _espeak_pitch(float(hz), median_hz, voice.pitch))
                piece = speak(f"[[{syllable}]]", note, rate)
                if len(piece):
                    pieces.append(_fit(piece, rate, min(NOTE_SECONDS, event.duration_seconds)))
                    words.append(syllable)
            piece = _legato(pieces, rate)
        else:
            table = NOISY_SYLLABLES if event.character == "noisy" else IMPULSIVE_SYLLABLES
            syllable = str(rng.choice(table[event.shade]))
            words.append(syllable)
            piece = speak(f"[[{syllable}]]", voice, rate)
            if event.character == "noisy" and len(piece):  # a long hiss is held on, breath after breath
                piece = _fit(piece, rate, event.duration_seconds)
        if not len(piece):
            continue
        start = max(0.0, event.start_seconds + float(rng.uniform(-0.015, 0.015)))
        i = int(start * rate)
        piece = _fade(piece[: max(0, len(dry) - i)], rate) * np.float32(10 ** (0.7 * max(event.level_db, -40.0) / 20))
        dry[i:i + len(piece)] += piece
        onsets.append(start)
    if not onsets:
        raise DataError("espeak-ng made no sound for the imitation", "check the espeak-ng voice")
    controls = controls_from_curves(curves)
    shaped = follow_envelope(dry.astype(np.float64), rate, controls.gain, float(rng.uniform(0.4, 0.8))).astype(np.float32)
    room = draw_room(rng)
    return Take(_finish(shaped, onsets, rate, room, rng), rate, np.asarray(onsets), label, " ".join(words), voice, room,
                "imitation")


def _legato(pieces: list[np.ndarray], rate: int, overlap_seconds: float = 0.02) -> np.ndarray:
    """PIECES joined with short cross-fades, no gap."""
    if not pieces:
        return np.zeros(0, np.float32)
    out = pieces[0].astype(np.float32)
    n = int(overlap_seconds * rate)
    for piece in pieces[1:]:
        k = min(n, len(out), len(piece))
        ramp = np.linspace(0.0, 1.0, k, dtype=np.float32)
        joined = out[len(out) - k:] * (1 - ramp) + piece[:k] * ramp
        out = np.concatenate([out[:len(out) - k], joined, piece[k:].astype(np.float32)])
    return out

"""Spoken and sung vocal takes made with espeak-ng: a second, differently made set of imitations.

The shared imitations are twenty real takes; thresholds tuned on them do not
carry over. These takes are made another way: onomatopoeia ("woof", "krrk",
"shhh") spoken by espeak-ng with a voice, speaking rate and pitch drawn from a
seeded generator, or sung as held vowels whose notes change pitch without a
break (legato), then put in a room (pedalboard reverb) with breath noises and
room noise at a drawn signal-to-noise ratio. Each syllable is spoken on its
own and placed at a chosen time, so a take carries its true onsets.

    take = spoken_take("dog bark", np.random.default_rng(1))
    take.onsets_seconds  # where each "woof" starts

espeak-ng is Debian's `espeak-ng` package; without it, :func:`speak` raises
:class:`sfxcli.errors.DataError` with that hint.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from sfxcli.analysis import resample
from sfxcli.errors import DataError

SAMPLE_RATE = 16000
VOICES = ("en", "en+m1", "en+m3", "en+m7", "en+f1", "en+f2", "en+f4", "en-us", "en-gb-scotland", "en+croak",
          "en+whisper", "en+klatt", "en+klatt3")

# What people say when they imitate these sounds; each label the built-in library knows.
ONOMATOPOEIA: dict[str, tuple[str, ...]] = {
    "dog bark": ("woof", "ruff", "arf", "wuff"),
    "cat meow": ("meow", "miaow", "mew"),
    "door creak": ("eeeek", "creeeak", "errrk"),
    "door knock": ("tok", "knock", "tuk", "dok"),
    "glass smash": ("krsh", "tshhh", "crash"),
    "footsteps": ("tup", "dup", "tap", "pat"),
    "gunshot": ("pew", "bang", "pow", "kh"),
    "explosion": ("boom", "bwoom", "brrroom"),
    "whoosh": ("whoosh", "fsssh", "vooosh"),
    "clock tick": ("tick", "tock", "tik", "tk"),
    "car horn": ("honk", "beep", "meep"),
    "engine": ("vroom", "brrrm", "rrrrm"),
    "punch": ("pow", "puh", "thwack"),
    "bell": ("ding", "dong", "bong"),
    "water drip": ("plip", "blip", "plop", "dlup"),
    "bird chirp": ("tweet", "cheep", "chirp"),
    "cow moo": ("moo", "mooo"),
    "wind": ("hoooo", "whoooo", "fffhooo"),
    "laser": ("pew", "zap", "peeoo"),
    "cartoon boing": ("boing", "doyng", "boink"),
}
SUNG_VOWELS = ("laa", "ooo", "aah", "mmm", "hmm", "naa", "eee")
# Words espeak-ng would spell out letter by letter ("krsh" as "kay ar ess aitch"), given as phonemes so
# that each stays one syllable and its one onset is the truth.
SPOKEN_AS = {
    "krsh": "[[kr'aS]]", "tshhh": "[[tS'S:]]", "kh": "[[kh'a]]", "tk": "[[t'@k]]", "bwoom": "[[bw'u:m]]",
    "brrroom": "[[br'u:m]]", "fsssh": "[[fs'S:]]", "rrrrm": "[[r'3:m]]", "brrrm": "[[br'3:m]]", "fffhooo": "[[fh'u:]]",
    "dlup": "[[dl'Vp]]", "doyng": "[[d'OIN]]", "mmm": "[[m'm:]]", "hmm": "[[h'm:]]",
}
TONAL_LABELS = ("bell", "car horn", "cow moo", "engine", "laser", "wind")  # what a sung take stands for


@dataclass(frozen=True)
class Voice:
    name: str  # espeak-ng voice and variant, e.g. "en+f2"
    rate_wpm: int  # espeak-ng speaking rate (-s), words per minute
    pitch: int  # espeak-ng base pitch (-p), 0 to 99


@dataclass(frozen=True)
class Room:
    room_size: float  # pedalboard Reverb room_size, 0 to 1
    wet_level: float  # pedalboard Reverb wet level
    snr_db: float  # speech level over room noise
    breaths: int  # breath noises added between syllables


@dataclass(frozen=True)
class Take:
    audio: np.ndarray  # mono float32
    sample_rate: int
    onsets_seconds: np.ndarray  # where each spoken or sung syllable starts
    label: str
    text: str  # the syllables, as spoken
    voice: Voice
    room: Room
    style: str  # "spoken" or "sung"

    @property
    def duration_seconds(self) -> float:
        return len(self.audio) / self.sample_rate


def speak(text: str, voice: Voice, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """espeak-ng's rendering of TEXT (or of its phonemes in SPOKEN_AS), trimmed to where the sound starts and ends (mono float32)."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise DataError("espeak-ng is not installed", "install Debian's espeak-ng package (apt-get install espeak-ng)")
    run = subprocess.run([program, "-v", voice.name, "-s", str(voice.rate_wpm), "-p", str(voice.pitch),
                          "--stdout", SPOKEN_AS.get(text, text)], capture_output=True, timeout=30)
    if run.returncode != 0 or not run.stdout:
        raise DataError(f"espeak-ng could not speak {text!r} with voice {voice.name} "
                        f"({run.stderr.decode(errors='replace').strip()[:200]})", "check `espeak-ng --voices`")
    audio, rate = sf.read(io.BytesIO(run.stdout), dtype="float32", always_2d=True)
    audio = resample(audio[:, 0], rate, sample_rate)
    return _trim(audio, sample_rate)


def _trim(audio: np.ndarray, sample_rate: int, floor_db: float = -45.0) -> np.ndarray:
    """AUDIO from its first to its last 5 ms block within FLOOR_DB of its peak."""
    block = max(1, sample_rate // 200)
    n = len(audio) // block
    if n == 0:
        return audio
    level = np.sqrt(np.mean(audio[: n * block].reshape(n, block) ** 2, axis=1) + 1e-20)
    loud = np.flatnonzero(20 * np.log10(level / (level.max() + 1e-20)) > floor_db)
    if loud.size == 0:
        return audio[:0]
    return audio[loud[0] * block:(loud[-1] + 1) * block]


def draw_voice(rng: np.random.Generator) -> Voice:
    return Voice(name=str(rng.choice(VOICES)), rate_wpm=int(rng.integers(110, 260)), pitch=int(rng.integers(15, 85)))


def draw_room(rng: np.random.Generator) -> Room:
    return Room(room_size=float(rng.uniform(0.05, 0.6)), wet_level=float(rng.uniform(0.02, 0.25)),
                snr_db=float(rng.uniform(18.0, 45.0)), breaths=int(rng.integers(0, 3)))


def _fade(audio: np.ndarray, sample_rate: int, seconds: float = 0.004) -> np.ndarray:
    n = min(len(audio) // 2, int(seconds * sample_rate))
    if n > 0:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        audio = audio.copy()
        audio[:n] *= ramp
        audio[-n:] *= ramp[::-1]
    return audio


def _breath(rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    """An in-breath: band-passed noise (600 Hz to 3 kHz) that swells and fades over 0.2 to 0.45 s."""
    from scipy.signal import butter, sosfilt

    n = int(rng.uniform(0.2, 0.45) * sample_rate)
    sos = butter(2, [600, 3000], btype="bandpass", fs=sample_rate, output="sos")
    noise = sosfilt(sos, rng.standard_normal(n)).astype(np.float32)
    envelope = np.sin(np.linspace(0, np.pi, n)) ** 2
    return (noise * envelope / (np.abs(noise).max() + 1e-9)).astype(np.float32)


def _room_noise(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    """Room tone: noise falling 3 dB per octave (pink) with a little mains hum."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    noise = np.fft.irfft(spectrum, n)
    noise += 0.1 * np.std(noise) * np.sin(2 * np.pi * float(rng.choice([50.0, 60.0])) * np.arange(n) / sample_rate)
    return (noise / (np.std(noise) + 1e-12)).astype(np.float32)


def _finish(dry: np.ndarray, onsets: list[float], sample_rate: int, room: Room, rng: np.random.Generator) -> np.ndarray:
    """DRY in ROOM: breaths before some syllables, reverb, room noise at the room's SNR, peak at -3 to -12 dBFS."""
    from pedalboard import Pedalboard, Reverb

    dry = dry.copy()
    speech_rms = float(np.sqrt(np.mean(dry[np.abs(dry) > 1e-4] ** 2))) if np.any(np.abs(dry) > 1e-4) else 1e-3
    for _ in range(room.breaths):
        breath = _breath(rng, sample_rate) * speech_rms * float(rng.uniform(0.15, 0.4))
        before = float(rng.choice(onsets))
        start = int(max(0.0, before - len(breath) / sample_rate - 0.03) * sample_rate)
        end = min(len(dry), start + len(breath))
        dry[start:end] += breath[: end - start]
    board = Pedalboard([Reverb(room_size=room.room_size, wet_level=room.wet_level, dry_level=1.0 - room.wet_level)])
    wet = board(dry[None, :], sample_rate)[0]
    noise = _room_noise(rng, len(wet), sample_rate) * speech_rms * 10 ** (-room.snr_db / 20)
    mixed = wet + noise
    peak_db = float(rng.uniform(-12.0, -3.0))
    return (mixed / (np.abs(mixed).max() + 1e-9) * 10 ** (peak_db / 20)).astype(np.float32)


def _audible_start_seconds(piece: np.ndarray, sample_rate: int, within_db: float = 30.0) -> float:
    """Where PIECE first comes within WITHIN_DB of its peak level (5 ms blocks): the onset a listener hears."""
    block = max(1, sample_rate // 200)
    n = len(piece) // block
    if n == 0:
        return 0.0
    level_db = 10 * np.log10(np.mean(piece[: n * block].reshape(n, block) ** 2, axis=1) + 1e-20)
    return float(np.argmax(level_db > level_db.max() - within_db)) * block / sample_rate


def _layout(pieces: list[np.ndarray], rng: np.random.Generator, sample_rate: int, legato: bool) -> tuple[np.ndarray, list[float]]:
    """PIECES one after another: gaps of 0.08 to 0.5 s (none, with 20 ms overlaps, when legato); lead-in 0.15 to 0.5 s.

    The onsets returned are where each piece becomes audible (within 30 dB of its own peak).
    """
    lead = float(rng.uniform(0.15, 0.5))
    starts, t = [], lead
    for piece in pieces:
        starts.append(t)
        t += len(piece) / sample_rate + (-0.02 if legato else float(rng.uniform(0.08, 0.5)))
    total = int((t + float(rng.uniform(0.3, 0.6))) * sample_rate)
    out = np.zeros(total, dtype=np.float32)
    for start, piece in zip(starts, pieces):
        i = int(start * sample_rate)
        out[i:i + len(piece)] += _fade(piece, sample_rate)[: total - i]
    return out, [start + _audible_start_seconds(piece, sample_rate) for start, piece in zip(starts, pieces)]


def spoken_take(label: str, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE,
                syllables: int | None = None) -> Take:
    """LABEL's onomatopoeia spoken 1 to 4 times (each possibly a different word), in a drawn voice and room."""
    if label not in ONOMATOPOEIA:
        raise DataError(f"no onomatopoeia for {label!r}", f"one of: {', '.join(sorted(ONOMATOPOEIA))}")
    voice = draw_voice(rng)
    count = syllables if syllables is not None else int(rng.integers(1, 5))
    words = [str(rng.choice(ONOMATOPOEIA[label])) for _ in range(count)]
    pieces = [p for p in (speak(w, voice, sample_rate) for w in words) if len(p) > 0]
    if not pieces:
        raise DataError(f"espeak-ng made no sound for {words}", "check the espeak-ng voice")
    dry, onsets = _layout(pieces, rng, sample_rate, legato=False)
    room = draw_room(rng)
    return Take(_finish(dry, onsets, sample_rate, room, rng), sample_rate, np.asarray(onsets), label, " ".join(words),
                voice, room, "spoken")


def sung_take(rng: np.random.Generator, sample_rate: int = SAMPLE_RATE, notes: int | None = None,
              label: str | None = None) -> Take:
    """Held vowels sung legato for a tonal LABEL (drawn from TONAL_LABELS when None): each note a new pitch and syllable, joined without a gap."""
    label = label if label is not None else str(rng.choice(TONAL_LABELS))
    voice = draw_voice(rng)
    count = notes if notes is not None else int(rng.integers(2, 6))
    slow = Voice(voice.name, int(rng.integers(70, 120)), voice.pitch)
    pieces, words = [], []
    for _ in range(count):
        word = str(rng.choice(SUNG_VOWELS))
        note = Voice(slow.name, slow.rate_wpm, int(rng.integers(5, 95)))
        piece = speak(word, note, sample_rate)
        if len(piece) > 0:
            pieces.append(piece)
            words.append(word)
    if not pieces:
        raise DataError("espeak-ng made no sound for the sung take", "check the espeak-ng voice")
    dry, onsets = _layout(pieces, rng, sample_rate, legato=True)
    room = draw_room(rng)
    return Take(_finish(dry, onsets, sample_rate, room, rng), sample_rate, np.asarray(onsets), label, " ".join(words),
                slow, room, "sung")


def take_set(count: int, seed: int = 0, sample_rate: int = SAMPLE_RATE, sung_share: float = 0.25) -> list[Take]:
    """COUNT takes from one seed: labels in turn through ONOMATOPOEIA, about SUNG_SHARE of them sung."""
    rng = np.random.default_rng(seed)
    labels = sorted(ONOMATOPOEIA)
    takes = []
    for i in range(count):
        if rng.random() < sung_share:
            takes.append(sung_take(rng, sample_rate))
        else:
            takes.append(spoken_take(labels[i % len(labels)], rng, sample_rate))
    return takes


# -- synthesised takes ----------------------------------------------------------------------------
# Takes built from oscillators and noise, each event placed by hand, so their onsets are exact. They
# cover what trips a level-only onset detector: breathy swells with slow attacks, notes that change
# pitch without a break in level (legato), syllables separated only by a shallow dip, and clicks.

SYNTHETIC_KINDS = ("clicks", "breathy", "legato", "syllables")
_SYNTHETIC_LABELS = {"clicks": ("door knock", "footsteps", "clock tick"), "breathy": ("whoosh", "wind"),
                     "legato": TONAL_LABELS, "syllables": ("dog bark", "engine", "cartoon boing")}


def _harmonic(pitch_hz: np.ndarray, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    """A voiced tone on the pitch curve PITCH_HZ: 12 harmonics with a drawn spectral tilt, breath noise mixed in."""
    phase = 2 * np.pi * np.cumsum(pitch_hz) / sample_rate
    tilt = float(rng.uniform(0.8, 2.0))
    tone = sum(np.sin(k * phase + float(rng.uniform(0, 2 * np.pi))) / k**tilt for k in range(1, 13))
    tone = tone / (np.std(tone) + 1e-12)
    breath = rng.standard_normal(len(tone)) * float(10 ** (rng.uniform(-30.0, -12.0) / 20))
    return tone + breath


def _vibrato(n: int, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    """Pitch wobble as a factor: 4 to 6.5 Hz, up to 0.4 semitone."""
    t = np.arange(n) / sample_rate
    depth = float(rng.uniform(0.0, 0.4))
    return 2 ** (depth / 12 * np.sin(2 * np.pi * float(rng.uniform(4.0, 6.5)) * t + float(rng.uniform(0, 6.3))))


def _envelope(n: int, attack: int, release: int) -> np.ndarray:
    env = np.ones(n)
    if attack > 0:
        env[:attack] = np.sin(np.linspace(0, np.pi / 2, attack)) ** 2
    if release > 0:
        env[n - release:] *= np.cos(np.linspace(0, np.pi / 2, release)) ** 2
    return env


def _clicks(rng: np.random.Generator, sample_rate: int, lead: float) -> tuple[np.ndarray, list[float]]:
    from scipy.signal import butter, sosfilt

    count = int(rng.integers(2, 7))
    onsets = list(lead + np.cumsum(np.concatenate([[0.0], rng.uniform(0.12, 0.6, count - 1)])))
    out = np.zeros(int((onsets[-1] + 0.6) * sample_rate))
    for onset in onsets:
        n = int(rng.uniform(0.04, 0.25) * sample_rate)
        centre = float(np.exp(rng.uniform(np.log(300), np.log(4000))))
        sos = butter(2, [centre / 1.6, min(centre * 1.6, sample_rate / 2 - 100)], btype="bandpass", fs=sample_rate,
                     output="sos")
        burst = sosfilt(sos, rng.standard_normal(n)) * np.exp(-np.arange(n) / (float(rng.uniform(0.008, 0.06)) * sample_rate))
        burst *= float(10 ** (rng.uniform(-8.0, 0.0) / 20)) / (np.abs(burst).max() + 1e-12)
        i = int(onset * sample_rate)
        out[i:i + n] += burst[: len(out) - i]
    return out, onsets


def _breathy(rng: np.random.Generator, sample_rate: int, lead: float) -> tuple[np.ndarray, list[float]]:
    """Swells of coloured noise ("shhh", "fff", "hooo"): attacks of 30 to 120 ms, the next one may start in the last one's tail."""
    from scipy.signal import butter, sosfilt

    count = int(rng.integers(1, 5))
    pieces, onsets, t = [], [], lead
    for _ in range(count):
        n = int(rng.uniform(0.3, 0.9) * sample_rate)
        attack = int(rng.uniform(0.03, 0.12) * sample_rate)
        release = int(rng.uniform(0.1, 0.3) * sample_rate)
        low = float(np.exp(rng.uniform(np.log(300), np.log(2500))))
        sos = butter(2, [low, min(low * float(rng.uniform(2.0, 5.0)), sample_rate / 2 - 100)], btype="bandpass",
                     fs=sample_rate, output="sos")
        swell = sosfilt(sos, rng.standard_normal(n)) * _envelope(n, attack, release)
        swell *= float(10 ** (rng.uniform(-6.0, 0.0) / 20)) / (np.std(swell) + 1e-12)
        # the onset is where the swell has risen to a tenth of its amplitude (-20 dB)
        onsets.append(t + float(np.arcsin(np.sqrt(0.1)) / (np.pi / 2)) * attack / sample_rate)
        pieces.append((t, swell))
        t += n / sample_rate - float(rng.uniform(0.0, 0.9)) * release / sample_rate + float(rng.uniform(0.0, 0.35))
    out = np.zeros(int((t + 0.5) * sample_rate))
    for start, swell in pieces:
        i = int(start * sample_rate)
        out[i:i + len(swell)] += swell[: len(out) - i]
    return out, onsets


def _notes(rng: np.random.Generator, sample_rate: int, lead: float, dip_db: tuple[float, float]) -> tuple[np.ndarray, list[float]]:
    """A hum of 2 to 5 notes: each change of note glides in 10 to 40 ms while the level dips by DIP_DB (0 for legato)."""
    count = int(rng.integers(2, 6))
    lengths = rng.uniform(0.2, 0.7, count)
    n = int((lead + lengths.sum() + 0.5) * sample_rate)
    base = float(np.exp(rng.uniform(np.log(90), np.log(400))))
    semitones = np.concatenate([[0.0], np.cumsum(rng.choice([-1, 1], count - 1) * rng.uniform(2.0, 7.0, count - 1))])
    semitones -= semitones.mean()
    starts = lead + np.concatenate([[0.0], np.cumsum(lengths[:-1])])
    end = lead + float(lengths.sum())
    t = np.arange(n) / sample_rate
    pitch = np.full(n, base * 2 ** (semitones[0] / 12))
    level_db = np.zeros(n)
    for start, semis in zip(starts[1:], semitones[1:]):
        glide = float(rng.uniform(0.01, 0.04))
        target = base * 2 ** (semis / 12)
        ramp = np.clip((t - start) / glide, 0.0, 1.0)
        pitch = np.where(t >= start, pitch * (1 - ramp) + target * ramp, pitch)
        dip = float(rng.uniform(*dip_db))
        width = float(rng.uniform(0.04, 0.09))
        # the level dips before the new note and comes back as it starts
        level_db -= dip * np.exp(-0.5 * ((t - (start - width / 2)) / (width / 3)) ** 2)
    tone = _harmonic(pitch * _vibrato(n, rng, sample_rate), rng, sample_rate) * 10 ** (level_db / 20)
    active = (t >= lead) & (t < end)
    attack, release = int(rng.uniform(0.01, 0.06) * sample_rate), int(0.1 * sample_rate)
    span = np.flatnonzero(active)
    env = np.zeros(n)
    env[span] = _envelope(len(span), attack, release)
    drift = 10 ** (np.cumsum(rng.standard_normal(n)) / np.sqrt(n) * 3.0 / 20)  # slow level drift, a few dB
    return tone * env * drift, [float(s) for s in starts]


def synthetic_take(kind: str, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE) -> Take:
    """A synthesised take of KIND (one of SYNTHETIC_KINDS) in a drawn room, with its exact onsets."""
    if kind not in SYNTHETIC_KINDS:
        raise DataError(f"no synthetic take of kind {kind!r}", f"one of: {', '.join(SYNTHETIC_KINDS)}")
    lead = float(rng.uniform(0.15, 0.5))
    if kind == "clicks":
        dry, onsets = _clicks(rng, sample_rate, lead)
    elif kind == "breathy":
        dry, onsets = _breathy(rng, sample_rate, lead)
    else:
        dry, onsets = _notes(rng, sample_rate, lead, (0.0, 3.0) if kind == "legato" else (8.0, 20.0))
    label = str(rng.choice(_SYNTHETIC_LABELS[kind]))
    room = draw_room(rng)
    audio = _finish(dry.astype(np.float32), onsets, sample_rate, room, rng)
    return Take(audio, sample_rate, np.asarray(onsets), label, kind, Voice("synthetic", 0, 0), room, kind)


def synthetic_set(count: int, seed: int = 0, sample_rate: int = SAMPLE_RATE) -> list[Take]:
    """COUNT synthesised takes from one seed, the kinds in turn."""
    rng = np.random.default_rng(seed)
    return [synthetic_take(SYNTHETIC_KINDS[i % len(SYNTHETIC_KINDS)], rng, sample_rate) for i in range(count)]

"""espeak-ng and synthesised takes carry onsets that are true: the audio starts there, the same seed makes the same take."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from sfxcli.analysis import frame_loudness_db
from sfxcli.errors import DataError
from training import voices
from training.voices import (ONOMATOPOEIA, SPOKEN_AS, SUNG_VOWELS, SYNTHETIC_KINDS, Voice, speak, spoken_take, sung_take,
                             synthetic_set, synthetic_take, take_set)


def _rise_db(take: voices.Take, onset: float, before: float = 0.04, after: float = 0.06) -> float:
    """Loudest 10 ms frame just after ONSET less the mean level (power) just before it."""
    level = frame_loudness_db(take.audio.astype(np.float64), take.sample_rate)
    frame = int(round(onset * 100))
    ahead = level[frame: frame + int(after * 100) + 1].max()
    behind = 10 * np.log10(np.mean(10 ** (level[max(0, frame - int(before * 100)): frame] / 10)))
    return float(ahead - behind)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_spoken_onsets_land_where_the_audio_rises(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for label in ("door knock", "dog bark", "whoosh"):
        take = spoken_take(label, rng, syllables=3)
        assert len(take.onsets_seconds) == 3 and np.all(np.diff(take.onsets_seconds) > 0.1)
        for onset in take.onsets_seconds:
            assert _rise_db(take, onset, after=0.08) > 6.0, (take.text, take.voice, onset)
        # and nothing of the syllable comes before it: the lead-in holds only room tone (and breaths)
        lead = take.audio[: int((take.onsets_seconds[0] - 0.05) * take.sample_rate)]
        peak = np.abs(take.audio).max()
        assert np.abs(lead).max() < 0.5 * peak


def test_sung_takes_are_legato_with_one_onset_per_note() -> None:
    take = sung_take(np.random.default_rng(4), notes=4)
    assert take.style == "sung" and len(take.onsets_seconds) == 4 == len(take.text.split())
    assert np.all(np.diff(take.onsets_seconds) > 0.1)
    level = frame_loudness_db(take.audio.astype(np.float64), take.sample_rate)
    first, last = int(take.onsets_seconds[0] * 100) + 5, int(take.onsets_seconds[-1] * 100)
    # legato: no gap of silence between the notes, the level stays within 40 dB of its peak throughout
    assert level[first:last].min() > level.max() - 40.0


def test_synthetic_onsets_land_where_the_audio_rises_or_the_note_changes() -> None:
    for kind in ("clicks", "breathy", "syllables"):
        take = synthetic_take(kind, np.random.default_rng(7))
        for onset in take.onsets_seconds:
            assert _rise_db(take, onset, after=0.1) > 3.0, (kind, onset)
    from sfxcli.analysis import analyse

    take = synthetic_take("legato", np.random.default_rng(7))
    pitch = analyse(take.audio, take.sample_rate).pitch_hz
    for onset, following in zip(take.onsets_seconds[1:-1], take.onsets_seconds[2:]):
        before = pitch[int(onset * 100) - 12: int(onset * 100) - 3]
        after = pitch[int(onset * 100) + 5: int(following * 100) - 3]
        step = abs(12 * np.log2(np.median(after[after > 0]) / np.median(before[before > 0])))
        assert step > 1.5, (onset, step)


def test_the_same_seed_makes_the_same_takes() -> None:
    a, b = take_set(3, seed=5), take_set(3, seed=5)
    assert [t.text for t in a] == [t.text for t in b]
    for x, y in zip(a, b):
        assert np.array_equal(x.audio, y.audio) and np.array_equal(x.onsets_seconds, y.onsets_seconds)
    assert [t.text for t in take_set(3, seed=6)] != [t.text for t in a] or not np.array_equal(
        take_set(3, seed=6)[0].audio, a[0].audio)
    s, t = synthetic_set(4, seed=2), synthetic_set(4, seed=2)
    assert [x.style for x in s] == list(SYNTHETIC_KINDS)
    assert all(np.array_equal(x.audio, y.audio) for x, y in zip(s, t))


def test_each_word_is_spoken_as_one_syllable() -> None:
    """espeak-ng spells out words it cannot read ("krsh" as kay-ar-ess-aitch): each would then hold several onsets."""
    words = sorted({w for ws in ONOMATOPOEIA.values() for w in ws} | set(SUNG_VOWELS))
    program = shutil.which("espeak-ng")
    assert program is not None, "espeak-ng (Debian's espeak-ng package) speaks the test takes"
    for word in words:
        phonemes = subprocess.run([program, "-q", "-x", SPOKEN_AS.get(word, word)], capture_output=True,
                                  text=True, check=True).stdout
        assert phonemes.count("'") <= 1 and "," not in phonemes, (word, phonemes)


def test_missing_espeak_is_a_data_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voices.shutil, "which", lambda name: None)
    with pytest.raises(DataError) as caught:
        speak("woof", Voice("en", 150, 50))
    assert "espeak-ng" in caught.value.message and "apt-get install espeak-ng" in (caught.value.hint or "")
    with pytest.raises(DataError):
        take_set(1, seed=0, sung_share=0.0)


def test_unknown_names_are_data_errors() -> None:
    with pytest.raises(DataError):
        spoken_take("no such sound", np.random.default_rng(0))
    with pytest.raises(DataError):
        synthetic_take("no such kind", np.random.default_rng(0))

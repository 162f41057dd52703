"""Every recipe renders usable audio, deterministically, and follows the imitation."""

from __future__ import annotations

import numpy as np
import pytest

from sfxcli.analysis import analyse, controls_from_curves, loudness_correlation
from sfxcli.engines.embedded import EmbeddedEngine
from sfxcli.errors import UsageError
from sfxcli.post import Finish, finish, true_peak_dbfs
from sfxcli.presets import load_fx, load_recipe, recipe_names
from tests.conftest import bursts, hum

SR = 48000


def _finished(name: str, x: np.ndarray, sr: int = 16000, seed: int = 7) -> np.ndarray:
    recipe = load_recipe(name)
    controls = controls_from_curves(analyse(x, sr))
    seconds = len(x) / sr
    render = EmbeddedEngine().render(controls, recipe, seed, SR, seconds + recipe.tail_seconds)
    audio, _ = finish(render.audio, SR, Finish([load_fx(c) for c in recipe.fx], controls.gain, recipe.follow, seconds))
    return audio


@pytest.mark.parametrize("name", recipe_names())
def test_recipe_renders_finite_audible_unclipped_audio(name: str) -> None:
    x = np.concatenate([hum(1.2, f0=160, f1=260), np.zeros(3200), bursts([0.1, 0.5], seconds=0.9)])
    audio = _finished(name, x)
    assert np.all(np.isfinite(audio))
    assert abs(true_peak_dbfs(audio, SR) - (-1.0)) < 0.01  # normalised to -1 dBFS true peak
    assert np.max(np.abs(audio)) <= 10 ** (-1.0 / 20) + 1e-9  # so no sample clips
    assert np.sqrt(np.mean(audio**2)) > 10 ** (-40 / 20)
    # it sounds while the imitation sounds and is quiet in its gap
    assert loudness_correlation(x, audio, 16000, SR) > 0.6


def test_same_seed_same_samples_other_seed_other_samples() -> None:
    x = hum(1.0)
    a, b, c = _finished("creak", x, seed=3), _finished("creak", x, seed=3), _finished("creak", x, seed=4)
    assert np.array_equal(a, b)
    assert not np.allclose(a[: len(c)], c[: len(a)])


def test_output_pitch_rises_with_the_hum() -> None:
    rising = _finished("siren", hum(2.0, f0=140, f1=280))
    pitch = analyse(rising, SR).pitch_hz
    early, late = pitch[20:60][pitch[20:60] > 0], pitch[140:180][pitch[140:180] > 0]
    assert np.median(late) > 1.5 * np.median(early)


def test_output_brightness_rises_with_the_imitation() -> None:
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(32000)
    spectrum = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(32000, 1 / 16000)
    dark = np.fft.irfft(spectrum * (freqs < 700), 32000)[:16000]
    bright = np.fft.irfft(spectrum * (freqs > 2500), 32000)[16000:]
    x = 0.4 * np.concatenate([dark / dark.std(), bright / bright.std()]) / 4
    centroid = analyse(_finished("whoosh", x), SR).centroid_hz
    assert np.median(centroid[120:190]) > 1.5 * np.median(centroid[20:90])


def test_hits_land_on_the_onsets() -> None:
    truth = [0.25, 0.9, 1.6]
    audio = _finished("impact", bursts(truth, seconds=2.2))
    found = analyse(audio, SR).onsets_seconds
    assert all(np.min(np.abs(found - t)) < 0.03 for t in truth)


def test_unknown_engine_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from sfxcli.request import build

    with pytest.raises(UsageError, match="engine must be one of auto, embedded, library, sao, got 'nonexistent'"):
        build(Path(tmp_path / "take.wav"), "door creak", {"engine": "nonexistent"})

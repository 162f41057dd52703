"""On the real human imitations, results follow loudness and onsets (the issue's bar)."""

from __future__ import annotations

import numpy as np
import pytest

from sfxcli.analysis import analyse
from sfxcli.pipeline import generate
from sfxcli.request import GenerateRequest
from tests.conftest import IMITATIONS

LABELS = {
    "Cat_Growling": "cat growl", "Dog_Growling": "dog growl", "Applause": "applause", "Sanding": "sanding",
    "Crushing": "crushing", "Whip": "whip", "trumpet": "trumpet playing", "waves_breaking": "waves breaking",
}


def _label(name: str) -> str:
    for key, label in LABELS.items():
        if key in name:
            return label
    return "bird chirp" if name.startswith("unlabeled") else "whoosh"


@pytest.mark.parametrize("engine", ["embedded", "auto"])
def test_real_imitations_are_followed(engine: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    files = sorted(IMITATIONS.glob("imitations/*.wav")) + sorted(IMITATIONS.glob("unlabeled_logged_pairs/*imitation.wav"))
    assert len(files) >= 20
    rs, f1s = [], []
    for path in files:
        result = generate(GenerateRequest(imitation=path, label=_label(path.name), project=tmp_path, variations=1, seed=5,
                                          engine=engine))
        rs.append(result.results[0].score.loudness_r)
        f1s.append(result.results[0].score.onset_f1)
    assert np.median(rs) >= 0.9, rs
    assert np.median(f1s) >= 0.8, f1s


def test_scores_in_sidecars_are_recomputable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import soundfile as sf

    from sfxcli.analysis import loudness_correlation
    from sfxcli.audio import read_imitation

    path = sorted(IMITATIONS.glob("imitations/*.wav"))[0]
    result = generate(GenerateRequest(imitation=path, label="growl", project=tmp_path, variations=1, seed=1))
    audio, sr = sf.read(result.results[0].path)
    imitation = read_imitation(path)
    span = audio[: int(imitation.duration_seconds * sr)]
    r = loudness_correlation(imitation.samples, span, imitation.sample_rate, sr)
    assert abs(r - result.results[0].score.loudness_r) < 0.01  # 24-bit rounding only
    assert len(analyse(span, sr).onsets_seconds) > 0

"""FX matching: chain parameter spaces, the audio distances, the pair pipeline's checks, the search, presets, the CLI."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sfxcli.errors import UnknownFxElementError
from sfxcli.fxmatch.chain import ELEMENTS, Chain, parse_chain, random_setting
from sfxcli.fxmatch.distance import mfcc_cosine, mfcc_distance, stft_distance
from sfxcli.match.features import RATE
from tests.conftest import SHARED, bursts

SFX = SHARED / "sfx"


def _clip(seed: int = 0, seconds: float = 1.5, onsets: tuple[float, ...] = (0.1, 0.5, 0.9),
          hz: float = 220.0) -> np.ndarray:
    """A levelled real-ish clip: syllable bursts with a tonal body, 0.5 s of silence after it."""
    x = bursts(list(onsets), seconds=seconds, sr=RATE, seed=seed)
    t = np.arange(len(x)) / RATE
    x = x + 0.2 * np.sin(2 * np.pi * hz * t) * np.exp(-3 * t)
    x *= 0.1 / np.sqrt(np.mean(x**2))
    return np.concatenate([x, np.zeros(RATE // 2)])


def test_chain_parsing_refuses_unknown_and_repeated_elements() -> None:
    chain = parse_chain(" EQ, compressor ,reverb")
    assert chain.name == "eq,compressor,reverb" and chain.dims == 14
    for text in ("eq,flanger", "", "reverb,reverb"):
        with pytest.raises(UnknownFxElementError) as caught:
            parse_chain(text)
        assert caught.value.exit_code == 91 and "\n" not in caught.value.message


def test_settings_round_trip_through_their_units_and_build_plugins() -> None:
    chain = parse_chain(",".join(ELEMENTS))
    u = random_setting(chain, np.random.default_rng(0))
    assert np.allclose(chain.normalised(chain.values(u)), u)
    values = dict(chain.values(u))
    for element in chain.elements:  # every value inside its range, log parameters spread geometrically
        for param in element.params:
            assert param.low <= values[element.name][param.name] <= param.high
    assert parse_chain("lowpass").values(np.array([0.5]))[0][1]["cutoff_hz"] == pytest.approx(np.sqrt(1000 * 20000))
    out = chain.render(_clip(), RATE, u)
    assert out.shape == (len(_clip()),) and np.all(np.isfinite(out))


def test_distances_are_zero_for_the_same_sound_and_ignore_level() -> None:
    x = _clip()
    assert stft_distance(x, x) == pytest.approx(0.0, abs=1e-9)
    assert stft_distance(x, 0.05 * x) == pytest.approx(0.0, abs=1e-6)  # level-matched
    assert mfcc_distance(x, 3.0 * x) == pytest.approx(0.0, abs=1e-6)
    reverb = parse_chain("reverb")
    wetter = [stft_distance(x, reverb.render(x, RATE, np.array([0.8, 0.3, w]))) for w in (0.1, 0.4, 0.9)]
    assert wetter[0] < wetter[1] < wetter[2]  # more processing, farther away


def test_the_same_sound_check_tells_effected_from_unrelated_sounds() -> None:
    x = _clip(0)
    chain = parse_chain("eq,compressor,reverb")
    rng = np.random.default_rng(1)
    same = [mfcc_cosine(x, chain.render(x, RATE, random_setting(chain, rng))) for _ in range(6)]
    other = [mfcc_cosine(x, _clip(seed, onsets=onsets, hz=hz)) for seed, onsets, hz in (
        (5, (0.3, 1.2), 800.0), (6, (0.05, 0.25, 0.7, 1.3), 110.0), (7, (0.6,), 3000.0))]
    noise = mfcc_cosine(x, 0.1 * rng.standard_normal(len(x)))
    assert min(same) > 0.4 > max(max(other), noise)


@dataclass(frozen=True)
class _Replacing(Chain):
    """A chain whose 'render' gives something else: silence, or a different sound."""

    kind: str = "noise"

    def render(self, audio: np.ndarray, sample_rate: int, u: np.ndarray) -> np.ndarray:
        if self.kind == "silence":
            return np.zeros_like(audio)
        return 0.1 * np.random.default_rng(int(u[0] * 1e6)).standard_normal(len(audio))


def test_pipeline_rejects_silent_and_destroyed_pairs_and_counts_them() -> None:
    from training.fx_pairs import PairConfig, PairStats, draw_clip, pairs_of_clip

    config = PairConfig()
    rng = np.random.default_rng(0)
    assert draw_clip(np.zeros(3 * RATE, np.float32), rng, config) is None  # a silent crop
    clip = _clip()
    for kind, counter in (("silence", "silent_effected"), ("noise", "destroyed")):
        stats = PairStats()
        chain = _Replacing(parse_chain("reverb").elements, kind)
        assert pairs_of_clip(clip, chain, rng, config, stats) == []
        assert getattr(stats, counter) == config.settings_per_clip and stats.pairs == 0
    stats = PairStats()
    kept = pairs_of_clip(clip, parse_chain("eq,reverb"), rng, config, stats)
    assert len(kept) == stats.pairs >= 1 and all(p.effected.shape == clip.shape for p in kept)


def test_pair_batches_are_a_function_of_seed_and_step() -> None:
    from training.data import read_manifest
    from training.fx_pairs import PairConfig, load_sounds, pair_batch

    examples = read_manifest(SFX / "manifest.csv")[:12]
    sounds, names, skipped = load_sounds([e.sound for e in examples])
    assert not skipped
    chain = parse_chain("eq,compressor,reverb")
    a, _ = pair_batch(sounds, chain, PairConfig(), 6, seed=3, step=5, names=names)
    b, stats = pair_batch(sounds, chain, PairConfig(), 6, seed=3, step=5, names=names)
    c, _ = pair_batch(sounds, chain, PairConfig(), 6, seed=3, step=6, names=names)
    assert all(np.array_equal(x.effected, y.effected) and np.array_equal(x.setting, y.setting) for x, y in zip(a, b))
    assert not np.array_equal(a[0].setting, c[0].setting)
    n = int((PairConfig().seconds + PairConfig().tail_seconds) * RATE)
    for pair in a:  # levelled dry clip with its silent tail; effected of the same length
        assert len(pair.dry) == len(pair.effected) == n
        assert 20 * np.log10(np.sqrt(np.mean(pair.dry.astype(float) ** 2))) == pytest.approx(-20.0, abs=0.1)
        assert np.all(pair.dry[-RATE // 4:] == 0)
    assert stats.pairs >= 6 and "pairs from" in stats.line()


def test_search_recovers_known_settings() -> None:
    from sfxcli.fxmatch.search import SearchConfig, search

    x = _clip(2)
    chain = parse_chain("lowpass,reverb")
    truth = np.array([0.3, 0.7, 0.2, 0.6])
    found = search(chain, x, chain.render(x, RATE, truth), SearchConfig(budget=600, seed=1))
    assert found.renders <= 600 + 4 * 10
    values, expected = dict(chain.values(found.setting)), dict(chain.values(truth))
    # the cutoff within a third of an octave, the wet share within 0.1
    assert abs(np.log2(values["lowpass"]["cutoff_hz"] / expected["lowpass"]["cutoff_hz"])) < 1 / 3
    assert abs(values["reverb"]["wet"] - expected["reverb"]["wet"]) < 0.1
    assert found.distance < 0.2 * stft_distance(chain.render(x, RATE, np.full(4, 0.5)), chain.render(x, RATE, truth))


def test_a_precomputed_target_measures_the_same_distance() -> None:
    from sfxcli.fxmatch.distance import Target

    x = _clip(2)
    chain = parse_chain("lowpass,reverb")
    reference = chain.render(x, RATE, np.array([0.3, 0.7, 0.2, 0.6]))
    target = Target.of(reference)
    for u in (np.full(4, 0.5), np.array([0.9, 0.1, 0.8, 0.2])):
        render = chain.render(x, RATE, u)
        assert target.distance(render) == stft_distance(render, reference)  # exactly: the same operations
    with pytest.raises(ValueError):
        target.distance(x[:-10])


def test_polish_walks_a_near_miss_home_in_a_few_renders() -> None:
    """From a setting off by 0.15 on every parameter, 60 renders of the coordinate polish recover every
    parameter within 0.03 (normalised), deterministically, never getting worse."""
    from sfxcli.fxmatch.search import refine

    x = _clip(3)
    chain = parse_chain("lowpass,reverb")
    truth = np.array([0.3, 0.7, 0.2, 0.6])
    reference = chain.render(x, RATE, truth)
    start = truth + np.array([0.15, -0.15, 0.15, -0.15])
    polished = refine(chain, x, reference, start, 60)
    assert polished.renders == 60 and len(polished.trace) == 60
    assert all(a >= b for a, b in zip(polished.trace, polished.trace[1:]))
    assert polished.distance < 0.1 * stft_distance(chain.render(x, RATE, start), reference)
    assert np.abs(polished.setting - truth).max() < 0.03  # normalised: every parameter, not only the audible ones
    again = refine(chain, x, reference, start, 60)
    assert np.array_equal(again.setting, polished.setting)


def test_matched_chain_level_is_independent_of_the_input_level() -> None:
    """A matched chain's compressor sees the sound at the level it was matched at, whatever the render's level."""
    from sfxcli.post import apply_fx
    from sfxcli.presets import FxChain

    effects = parse_chain("compressor").effects(np.array([0.4, 0.9, 0.3, 0.3]))
    matched = FxChain("m", "", effects, input_rms_dbfs=-20.0)
    plain = FxChain("p", "", effects)
    x = _clip(3)
    loud, quiet = apply_fx(x, RATE, [matched]), apply_fx(0.05 * x, RATE, [matched])
    assert np.allclose(quiet, 0.05 * loud, atol=1e-6)
    assert not np.allclose(apply_fx(0.05 * x, RATE, [plain]), 0.05 * apply_fx(x, RATE, [plain]), atol=1e-4)


def _files(tmp_path: Path) -> dict[str, Path]:
    x = _clip(4)
    chain = parse_chain("eq,compressor,reverb")
    files = {"dry": tmp_path / "dry.wav", "ref": tmp_path / "ref.wav", "short": tmp_path / "short.wav",
             "silent": tmp_path / "silent.wav", "junk": tmp_path / "junk.wav"}
    sf.write(files["dry"], x, RATE)
    sf.write(files["ref"], chain.render(x, RATE, np.random.default_rng(2).uniform(0, 1, chain.dims)), RATE)
    sf.write(files["short"], x[: RATE // 4], RATE)
    sf.write(files["silent"], np.zeros(RATE), RATE)
    files["junk"].write_bytes(b"RIFF not really audio" * 10)
    return files


def test_fx_match_bad_input_is_one_line_with_its_own_exit_code(run_cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFX_USER_PRESETS", str(tmp_path / "presets"))
    files = _files(tmp_path)
    cases = [((str(files["short"]),), 93), ((str(files["silent"]),), 94), ((str(files["junk"]),), 92),
             ((str(tmp_path / "missing.wav"),), 92), ((str(files["ref"]), "--chain", "eq,flanger"), 91),
             ((str(files["ref"]), "--chain", "delay"), 95), ((str(files["ref"]), "--search"), 2)]
    codes = set()
    for args, code in cases:
        got, out, err = run_cli("fx", "match", *args)
        assert got == code, (args, err)
        assert out == "" and err.startswith("error: ") and len(err.splitlines()) <= 2 and "Traceback" not in err
        codes.add(code)
    assert not (tmp_path / "presets").exists()  # nothing written on a refusal


def test_fx_match_search_writes_a_preset_that_gen_reads(run_cli, tmp_path: Path, project: Path,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFX_USER_PRESETS", str(tmp_path / "presets"))
    files = _files(tmp_path)
    code, out, err = run_cli("fx", "match", str(files["ref"]), "--dry", str(files["dry"]), "--search", "--budget",
                             "300", "--chain", "eq,reverb", "--name", "myroom")
    assert code == 0, err
    path = Path(out.strip())
    assert path == tmp_path / "presets" / "fx" / "myroom.toml"
    data = tomllib.loads(path.read_text())
    assert data["input_rms_dbfs"] == -20.0 and [e["type"] for e in data["effects"]] == [
        "LowShelfFilter", "PeakFilter", "HighShelfFilter", "Reverb"]
    assert "reverb:" in err and "room_size" in err
    code, _, err = run_cli("fx", "match", str(files["ref"]), "--dry", str(files["dry"]), "--search", "--budget",
                           "100", "--chain", "eq,reverb", "--name", "myroom")
    assert code == 30 and "exists" in err  # kept unless --force
    code, out, err = run_cli("gen", str(files["dry"]), "door creak", "--project", str(project), "-n", "1",
                             "--fx", "myroom", "--seed", "1")
    assert code == 0, err
    assert Path(out.strip()).is_file()


def test_shipped_estimator_recovers_known_settings_it_can_hear() -> None:
    """References made by known settings of real sounds the estimator never trained on: with the dry sound it
    recovers the shelf gains, room size and wet share within stated tolerances (normalised units; a constant
    guess errs by about 0.27 on each), and its settings sound far closer than random ones."""
    from sfxcli.fxmatch.estimator import estimator_for
    from training.data import read_manifest
    from training.fx import FxTrainConfig, split_sounds
    from training.fx_pairs import PairConfig, load_sounds, pair_batch

    chain = parse_chain("eq,compressor,reverb")
    estimator = estimator_for(chain)
    everything, all_names, _ = load_sounds([e.sound for e in read_manifest(SFX / "manifest.csv")])
    _, held = split_sounds(len(everything), FxTrainConfig().holdout, FxTrainConfig().seed)  # as training split them
    sounds, names = [everything[i] for i in held], [all_names[i] for i in held]
    pairs, _ = pair_batch(sounds, chain, PairConfig(), 16, seed=4242, step=0, names=names)
    predicted = np.stack([estimator.estimate(p.effected, p.dry) for p in pairs])
    truth = np.stack([p.setting for p in pairs])
    error = dict(zip(chain.param_names, np.abs(predicted - truth).mean(axis=0)))
    tolerance = {"eq.low_gain_db": 0.2, "eq.high_gain_db": 0.2, "reverb.room_size": 0.15, "reverb.wet": 0.2}
    assert all(error[name] < limit for name, limit in tolerance.items()), error
    rng = np.random.default_rng(0)
    ours = np.mean([stft_distance(chain.render(p.dry, RATE, u), p.effected) for p, u in zip(pairs, predicted)])
    chance = np.mean([stft_distance(chain.render(p.dry, RATE, random_setting(chain, rng)), p.effected) for p in pairs])
    assert ours < 0.8 * chance
    from sfxcli.fxmatch.match import match

    for pair, u in zip(pairs[:3], predicted):  # with the dry sound, a short polish only ever gets closer
        polished = match(chain, pair.effected, pair.dry, "estimator", estimator, polish=40)
        assert polished.renders == 40 and polished.method == "estimator + polish (40 renders)"
        assert polished.distance <= stft_distance(chain.render(pair.dry, RATE, u), pair.effected) + 1e-9


def test_gen_fx_like_applies_the_match_and_refuses_a_bad_reference(run_cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                   project: Path, hum_file: Path) -> None:
    import json

    files = _files(tmp_path)
    code, out, err = run_cli("gen", str(hum_file), "door creak", "--project", str(project), "-n", "1", "--seed", "2",
                             "--fx-like", str(files["ref"]), "--engine", "embedded")
    assert code == 0, err
    sidecar = json.loads(Path(out.strip()).with_suffix(".json").read_text())
    assert sidecar["fx"] == ["like ref.wav"]  # in place of the recipe's own chains
    assert [e["type"] for e in sidecar["parameters"]["fx_chains"]["like ref.wav"]][-2:] == ["Compressor", "Reverb"]
    assert f"--fx-like {files['ref']}" in sidecar["reproduce"]
    code, out, err = run_cli("gen", str(hum_file), "door creak", "--project", str(project), "--fx-like",
                             str(files["silent"]))
    assert code == 94 and out == "" and "fx-like reference is silent" in err
    assert len(list((project / "sfx").glob("*.wav"))) == 1  # nothing more written

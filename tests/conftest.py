"""Shared fixtures: synthetic signals, a project folder, and an in-process CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# library indexes go to a throwaway cache, shared by the whole run (subprocesses inherit it)
os.environ.setdefault("SFX_CACHE", __import__("tempfile").mkdtemp(prefix="sfx-test-cache-"))

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
IMITATIONS = SHARED / "imitations"


def hum(seconds: float = 2.0, sr: int = 16000, f0: float = 180.0, f1: float | None = None, amp: float = 0.5,
        seed: int = 0) -> np.ndarray:
    """A voiced hum: harmonic tone with optional glide, breath noise, 20 ms fades."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    freq = np.linspace(f0, f1 if f1 is not None else f0, n)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 8)) * amp / 2 + 0.003 * rng.standard_normal(n)
    ramp = int(0.02 * sr)
    x[:ramp] *= np.linspace(0, 1, ramp)
    x[-ramp:] *= np.linspace(1, 0, ramp)
    return x


def bursts(onsets: list[float], seconds: float = 3.0, sr: int = 16000, seed: int = 1) -> np.ndarray:
    """Syllable-like noise bursts ("ka ka ka") starting at the given times."""
    rng = np.random.default_rng(seed)
    x = 0.0005 * rng.standard_normal(int(seconds * sr))
    for onset in onsets:
        start = int(onset * sr)
        length = int(0.18 * sr)
        env = np.exp(-np.arange(length) / (0.05 * sr))
        x[start : start + length] += 0.6 * rng.standard_normal(length)[: len(x) - start] * env[: len(x) - start]
    return x


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest.fixture()
def hum_file(tmp_path: Path) -> Path:
    path = tmp_path / "hum.wav"
    sf.write(path, hum(), 16000)
    return path


@pytest.fixture()
def run_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``sfx`` in-process through ``main`` (the real error handling); returns (code, stdout, stderr)."""
    from sfxcli.app import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run

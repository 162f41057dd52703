"""``--plot``: one PNG showing how closely each result followed the imitation."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from sfxcli.analysis import Curves, analyse
from sfxcli.audio import Imitation
from sfxcli.output import OutputFolder, write_file


def _spectrum_db(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Long-term average spectrum (Welch, 4096-point Hann), in dB re its own peak."""
    size = 4096
    if len(audio) < size:
        audio = np.pad(audio, (0, size - len(audio)))
    frames = np.lib.stride_tricks.sliding_window_view(audio, size)[:: size // 2]
    power = np.mean(np.abs(np.fft.rfft(frames * np.hanning(size), axis=1)) ** 2, axis=0)
    db = 10 * np.log10(power + 1e-20)
    return np.fft.rfftfreq(size, 1 / sample_rate), db - db.max()


def plot_comparison(imitation: Imitation, curves: Curves, results: list[tuple[Path, np.ndarray]], sample_rate: int,
                    folder: OutputFolder, sources: list[list[Path]] | None = None,
                    scores: list[tuple[float, float]] | None = None) -> Path:
    """Waveform, loudness, pitch and brightness of the imitation over each result's, and each
    result's spectrum over the recordings it was made from (library engine); atomic PNG write."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = 1 + len(results)
    fig, axes = plt.subplots(rows, 4, figsize=(19, 2.4 * rows), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1, 1, 0.8]})
    for row in axes:
        for ax in row[1:3]:
            ax.sharex(row[0])
    t_imitation = np.arange(len(imitation.samples)) / imitation.sample_rate
    times = curves.times_seconds

    def draw(row: int, title: str, samples: np.ndarray, rate: int, c: Curves, colour: str) -> None:
        axes[row, 0].plot(np.arange(len(samples)) / rate, samples, color=colour, linewidth=0.4)
        axes[row, 0].set_ylabel(title, fontsize=8)
        axes[row, 1].plot(times, curves.loudness_db, color="0.6", linewidth=1, label="imitation")
        axes[row, 1].plot(c.times_seconds, c.loudness_db, color=colour, linewidth=1, label="this")
        axes[row, 1].set_ylim(-80, 0)
        for onset in c.onsets_seconds:
            axes[row, 1].axvline(onset, color=colour, alpha=0.4, linewidth=0.8)
        pitched = np.where(c.pitch_hz > 0, c.pitch_hz, np.nan)
        axes[row, 2].plot(c.times_seconds, c.centroid_hz, color=colour, linewidth=0.8, label="brightness (centroid)")
        axes[row, 2].plot(c.times_seconds, pitched, color="black", linewidth=1.2, label="pitch")
        axes[row, 2].set_yscale("log")

    def spectrum(row: int, audio: np.ndarray, rate: int, colour: str, label: str) -> None:
        freqs, db = _spectrum_db(audio, rate)
        axes[row, 3].semilogx(np.maximum(freqs, 20), db, color=colour, linewidth=0.9, label=label)
        axes[row, 3].set_xlim(30, rate / 2)
        axes[row, 3].set_ylim(-90, 3)

    draw(0, "imitation", imitation.samples, imitation.sample_rate, curves, "tab:blue")
    spectrum(0, imitation.samples, imitation.sample_rate, "tab:blue", "imitation")
    for i, (path, audio) in enumerate(results, start=1):
        title = f"result {i} (#{path.stem.rsplit('_', 1)[-1]})"
        if scores:
            title += f"\nr {scores[i - 1][0]:.2f}, onset F1 {scores[i - 1][1]:.2f}"
        draw(i, title, audio, sample_rate, analyse(audio, sample_rate), "tab:orange")
        for source in (sources[i - 1] if sources else []):
            try:
                import soundfile as sf

                data, rate = sf.read(source, dtype="float64", always_2d=True)
                spectrum(i, data.mean(axis=1), rate, "0.55", f"recording: {source.stem[:24]}")
            except (OSError, RuntimeError):
                continue
        spectrum(i, audio, sample_rate, "tab:orange", "this result")
        if sources and sources[i - 1]:
            axes[i, 3].legend(fontsize=6, loc="lower left")
    axes[0, 0].set_title("waveform")
    axes[0, 1].set_title("loudness dBFS (grey: imitation; lines: onsets)")
    axes[0, 2].set_title("pitch and brightness, Hz")
    axes[0, 3].set_title("spectrum, dB (grey: library recording used)")
    axes[0, 2].legend(fontsize=7, loc="upper right")
    for ax in axes[-1][:3]:
        ax.set_xlabel("seconds")
    axes[-1][3].set_xlabel("Hz")
    axes[0, 0].set_xlim(0, max(t_imitation[-1], max(len(a) / sample_rate for _, a in results)))
    fig.tight_layout()
    first, last = results[0][0].stem, results[-1][0].stem
    image = io.BytesIO()
    try:
        fig.savefig(image, dpi=90, format="png")
    finally:
        plt.close(fig)
    return write_file(folder, f"{first}-{last.rsplit('_', 1)[-1]}_plot.png", image.getvalue())

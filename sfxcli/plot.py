"""``--plot``: one PNG showing how closely each result followed the imitation."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sfxcli.analysis import Curves, analyse
from sfxcli.audio import Imitation


def plot_comparison(imitation: Imitation, curves: Curves, results: list[tuple[Path, np.ndarray]], sample_rate: int,
                    folder: Path) -> Path:
    """Waveform, loudness, pitch and brightness of the imitation over each result's; atomic PNG write."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = 1 + len(results)
    fig, axes = plt.subplots(rows, 3, figsize=(15, 2.4 * rows), squeeze=False, sharex=True)
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

    draw(0, "imitation", imitation.samples, imitation.sample_rate, curves, "tab:blue")
    for i, (path, audio) in enumerate(results, start=1):
        draw(i, f"result {i} (#{path.stem.rsplit('_', 1)[-1]})", audio, sample_rate, analyse(audio, sample_rate), "tab:orange")
    axes[0, 0].set_title("waveform")
    axes[0, 1].set_title("loudness dBFS (grey: imitation; lines: onsets)")
    axes[0, 2].set_title("pitch and brightness, Hz")
    axes[0, 2].legend(fontsize=7, loc="upper right")
    for ax in axes[-1]:
        ax.set_xlabel("seconds")
    axes[0, 0].set_xlim(0, max(t_imitation[-1], max(len(a) / sample_rate for _, a in results)))
    fig.tight_layout()
    first, last = results[0][0].stem, results[-1][0].stem
    final = folder / f"{first}-{last.rsplit('_', 1)[-1]}_plot.png"
    tmp = folder / f".{final.name}.{os.getpid()}.partial.png"
    try:
        fig.savefig(tmp, dpi=90)
        os.replace(tmp, final)
    finally:
        plt.close(fig)
        if tmp.exists():
            tmp.unlink()
    return final

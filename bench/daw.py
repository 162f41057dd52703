"""Round trip from a DAW client's request to its answer: a 3 s take, 4 variations, the embedded engine.

Starts `sfx serve` (embedded engine) with a projects root, then times, 20 times each (after one warm-up):
- `sfx send` as a shell script or the REAPER script runs it, from start to the written paths;
- the Ardour client (bridge/clients/ardour_sfx.lua) in Ardour's own Lua interpreter, from running its
  request to the regions on the new track (needs Debian's ardour: ardour7-lua);
- the Pd vanilla patch (pd -nogui), from start to its sfx-done.
Prints median and worst of each.

    python bench/daw.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
SFX = str(Path(sys.executable).parent / "sfx")


def take(path: Path) -> None:
    rate = 48000
    x = np.zeros(3 * rate)
    for onset in (0.3, 0.9, 1.6, 2.3):
        start = int(onset * rate)
        n = int(0.2 * rate)
        x[start:start + n] += 0.5 * np.random.default_rng(int(onset * 10)).standard_normal(n) * np.exp(-np.arange(n) / (0.05 * rate))
    sf.write(path, x, rate)


def report(name: str, times: list[float]) -> None:
    if times:
        print(f"{name}: median {statistics.median(times):.2f} s, worst {max(times):.2f} s over {len(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "Music"
        project = root / "Film"
        project.mkdir(parents=True)
        wav = project / "take.wav"
        take(wav)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        server = subprocess.Popen([SFX, "serve", "--port", "0", "--project", str(project), "--project-root", str(root),
                                   "--engine", "embedded"], stderr=subprocess.PIPE, text=True, env=env)
        assert server.stderr is not None
        port = int(re.search(r"udp 127\.0\.0\.1:(\d+)", server.stderr.readline()).group(1))  # type: ignore[union-attr]
        try:
            def send() -> None:
                subprocess.run([SFX, "send", str(wav), "door creak", "-o", "variations=4", "-o", f"project={project}",
                                "--port", str(port), "-q"], check=True, capture_output=True, env=env)

            send()
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                send()
                times.append(time.perf_counter() - start)
            report("sfx send (3 s take, 4 variations, embedded engine)", times)

            from tests.test_daw_clients import ardour_round_trip, pd_available, pd_round_trip

            if shutil.which("ardour7-lua"):
                session_times = [ardour_round_trip(root / f"ardour-{i}", wav, port, 4) for i in range(args.repeats + 1)][1:]
                report("Ardour client in ardour7-lua (request to regions on the new track)", session_times)
            else:
                print("Ardour client: ardour7-lua not installed (apt-get install ardour)")
            if pd_available():
                pd_times = [pd_round_trip(wav, port, 4) for _ in range(args.repeats + 1)][1:]
                report("Pd vanilla patch (start to sfx-done)", pd_times)
            else:
                print("Pd: pd not installed (apt-get install puredata-core)")
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(20)


if __name__ == "__main__":
    main()

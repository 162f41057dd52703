"""The OSC bridge's own cost: round trip minus engine time, and burst throughput.

Starts `sfx serve` on a free port, then
- ping round trip (pure bridge path, no engine),
- generate round trip for a 1 s imitation, 1 variation, minus the time the
  same request takes in-process (the engine's share); target <= 20 ms median,
- a burst of N generate requests: every id answered once, requests per second.

    python bench/bridge.py [--repeats 20] [--burst 100]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from pythonosc.osc_packet import OscPacket

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bridge.server import encode  # noqa: E402
from sfxcli.pipeline import generate  # noqa: E402
from sfxcli.request import GenerateRequest  # noqa: E402


def _wait(sock: socket.socket, rid: str, finals: tuple[str, ...]) -> str:
    while True:
        data, _ = sock.recvfrom(65536)
        for timed in OscPacket(data).messages:
            params = list(timed.message.params)
            if timed.message.address in finals and params and str(params[0]) == rid:
                return timed.message.address


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--burst", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        imitation = folder / "hum.wav"
        t = np.arange(16000) / 16000
        sf.write(imitation, 0.4 * np.sin(2 * np.pi * 180 * t) * np.hanning(16000), 16000)
        project = folder / "project"
        project.mkdir()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "sfxcli", "serve", "--port", "0", "--project", str(project),
                                 "--max-queue", str(args.burst)], stderr=subprocess.PIPE, text=True, env=env)
        assert proc.stderr is not None
        port = int(re.search(r":(\d+),", proc.stderr.readline()).group(1))  # type: ignore[union-attr]
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(60)
        target = ("127.0.0.1", port)
        try:
            pings = []
            for i in range(args.repeats):
                start = time.perf_counter()
                sock.sendto(encode("/sfx/ping", [f"p{i}"]), target)
                _wait(sock, f"p{i}", ("/sfx/pong",))
                pings.append(time.perf_counter() - start)
            request = GenerateRequest(imitation=imitation, label="door creak", project=project, variations=1, seed=1)
            generate(request)  # warm
            local, remote = [], []
            for i in range(args.repeats):
                start = time.perf_counter()
                generate(request)
                local.append(time.perf_counter() - start)
                start = time.perf_counter()
                sock.sendto(encode("/sfx/generate", [f"g{i}", str(imitation), "door creak", "variations", 1, "seed", 1]), target)
                assert _wait(sock, f"g{i}", ("/sfx/done", "/sfx/error")) == "/sfx/done"
                remote.append(time.perf_counter() - start)
            overhead_ms = (statistics.median(remote) - statistics.median(local)) * 1000
            print(f"ping round trip: median {statistics.median(pings) * 1000:.2f} ms")
            print(f"generate: round trip median {statistics.median(remote) * 1000:.1f} ms, in-process median "
                  f"{statistics.median(local) * 1000:.1f} ms -> bridge overhead {overhead_ms:.1f} ms (target <= 20)")
            start = time.perf_counter()
            for i in range(args.burst):
                sock.sendto(encode("/sfx/generate", [f"b{i}", str(imitation), "click", "variations", 1]), target)
            answered: dict[str, str] = {}
            while len(answered) < args.burst:
                data, _ = sock.recvfrom(65536)
                for timed in OscPacket(data).messages:
                    params = list(timed.message.params)
                    if timed.message.address in ("/sfx/done", "/sfx/error") and params:
                        answered.setdefault(str(params[0]), timed.message.address)
            elapsed = time.perf_counter() - start
            done = sum(1 for v in answered.values() if v == "/sfx/done")
            print(f"burst of {args.burst}: all answered in {elapsed:.2f} s ({done} done, {args.burst - done} busy), "
                  f"{done / elapsed:.1f} finished requests/s")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)


if __name__ == "__main__":
    main()

"""Fuzz `sfx serve`: thousands of random and malformed datagrams interleaved with valid requests.

Starts the server with a token (from SFX_TOKEN) and a log file, then sends
--junk datagrams from rotating source sockets: random bytes, truncated and
bit-flipped valid packets, wrong and unknown type tags, missing and extra
arguments, over-long ids, paths with over-long components, ``~user`` paths,
FIFOs, paths through files, deep subfolders, tokens that are wrong,
non-ASCII, binary or numbers. Every --every datagrams a valid generate
request (right token, 1 variation of a 0.5 s take) goes from a separate
client socket. Prints whether the server is alive, how many workers were
restarted, how many valid requests were answered with files, the growth of
the server's and worker's resident memory, and how many bytes the log got.

    python bench/fuzz.py                    # 10,000 junk datagrams, 100 valid requests
    python bench/fuzz.py --junk 2000 --valid 20
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
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

TOKEN = "fuzz-s3cret"


def rss_kb(pid: int) -> int:
    try:
        return int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))  # type: ignore[union-attr]
    except (OSError, AttributeError):
        return 0


def junk(rng: random.Random, take: str, folder: Path) -> bytes:
    """One hostile datagram."""
    fifo = str(folder / "pipe.wav")
    choice = rng.randrange(14)
    if choice == 0:
        return rng.randbytes(rng.randrange(1, 200))
    valid = encode("/sfx/generate", [f"j{rng.randrange(10**6)}", take, "creak", "token", TOKEN, "variations", 1])
    if choice == 1:
        return valid[: rng.randrange(1, len(valid))]
    if choice == 2:
        data = bytearray(valid)
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    if choice == 3:
        return b"/sfx/ping\x00\x00\x00,sQ\x00\x00id\x00\x00"  # an unknown type tag
    tokens = [TOKEN, "wrong", "sécret✓", b"\xff\x00binary", 12345, 1.5, "x" * 300]
    token = tokens[rng.randrange(len(tokens))]
    paths = ["/" + "n" * 400 + ".wav", "~nosuchuser/take.wav", take + "/inside.wav", fifo, "/dev/zero",
             "/" + "/".join(["d"] * 2000), "relative.wav", "", "/etc/passwd", take]
    path = paths[rng.randrange(len(paths))]
    extras: list[object] = []
    if choice >= 10:
        key = rng.choice(["subfolder", "library", "variations", "seed", "format", "engine", "lufs", "colour"])
        value = rng.choice(["/".join(["s"] * 1500), "..\\..\\win", "CON", "~", "/etc", -1, 10**12, "é" * 3000, 0.5])
        extras = [key, value]
    address = rng.choice(["/sfx/generate", "/sfx/generate", "/sfx/project", "/sfx/cancel", "/sfx/status", "/nope"])
    args: list[object] = [rng.choice([f"z{choice}", "x" * 200, 7])] + ([path, "creak"] if address == "/sfx/generate"
                                                                     else [path] if address == "/sfx/project" else [])
    try:
        return encode(address, [*args, *extras, "token", token])
    except Exception:  # noqa: BLE001 - the builder refuses some values; send raw bytes instead
        return rng.randbytes(64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junk", type=int, default=10_000)
    parser.add_argument("--valid", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=2000.0, help="junk datagrams per second (UDP drops what a "
                        "socket buffer cannot hold, valid requests included: pace the flood to test the server)")
    args = parser.parse_args()
    every = max(1, args.junk // max(args.valid, 1))
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        take = folder / "take.wav"
        t = np.arange(8000) / 16000
        sf.write(take, 0.4 * np.sin(2 * np.pi * 180 * t) * np.hanning(8000), 16000)
        os.mkfifo(folder / "pipe.wav")
        project = folder / "project"
        project.mkdir()
        log_path = folder / "serve.log"
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "SFX_TOKEN": TOKEN}
        with open(log_path, "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "sfxcli", "serve", "--port", "0", "--project", str(project),
                                     "--engine", "embedded", "--max-queue", "256"], stderr=log, text=True, env=env)
        port = 0
        for _ in range(600):
            match = re.search(r"listening on udp 127\.0\.0\.1:(\d+)", log_path.read_text())
            if match:
                port = int(match.group(1))
                break
            time.sleep(0.1)
        assert port, log_path.read_text()
        target = ("127.0.0.1", port)
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.bind(("127.0.0.1", 0))
        client.setblocking(False)
        answered: dict[str, str] = {}
        seen: dict[str, list[str]] = {}

        def drain() -> None:
            while True:
                try:
                    data, _ = client.recvfrom(65536)
                except BlockingIOError:
                    return
                for timed in OscPacket(data).messages:
                    params = list(timed.message.params)
                    if params:
                        seen.setdefault(str(params[0]), []).append(timed.message.address)
                    if timed.message.address in ("/sfx/done", "/sfx/error") and params:
                        answered.setdefault(str(params[0]), timed.message.address)

        client.sendto(encode("/sfx/generate", ["warm", str(take), "door creak", "variations", 1, "token", TOKEN]), target)
        warm_until = time.monotonic() + 120
        while "warm" not in answered and time.monotonic() < warm_until:  # memory is measured after a first request
            drain()
            time.sleep(0.05)
        started_log = log_path.stat().st_size
        workers = [int(p) for p in re.findall(r"\d+", subprocess.run(["pgrep", "-P", str(proc.pid)],
                                                                        capture_output=True, text=True).stdout)]
        rss_start = rss_kb(proc.pid) + sum(rss_kb(w) for w in workers)
        flooder: socket.socket | None = None
        valid_sent = 0
        started = time.monotonic()
        for i in range(args.junk):
            if flooder is None or i % 3 == 0:  # a fresh source port now and then: throttling is per socket on loopback
                if flooder is not None:
                    flooder.close()
                flooder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                flooder.bind(("127.0.0.1", 0))
            flooder.sendto(junk(rng, str(take), folder), target)
            time.sleep(max(0.0, started + (i + 1) / args.rate - time.monotonic()))
            if i % every == every - 1 and valid_sent < args.valid:
                client.sendto(encode("/sfx/generate", [f"valid{valid_sent}", str(take), "door creak", "variations", 1,
                                                       "seed", valid_sent, "token", TOKEN]), target)
                valid_sent += 1
            if i % 50 == 0:
                drain()
        deadline = time.monotonic() + 120
        while len([k for k in answered if k.startswith("valid")]) < valid_sent and time.monotonic() < deadline:
            drain()
            time.sleep(0.05)
        elapsed = time.monotonic() - started
        missing = [f"valid{i}" for i in range(valid_sent) if f"valid{i}" not in answered]
        if missing:
            print(f"unanswered: {missing}; seen for them: {seen.get(missing[0])}", file=sys.stderr)
        alive = proc.poll() is None
        workers_now = [int(p) for p in re.findall(r"\d+", subprocess.run(["pgrep", "-P", str(proc.pid)],
                                                                            capture_output=True, text=True).stdout)]
        rss_end = rss_kb(proc.pid) + sum(rss_kb(w) for w in workers_now)
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
        text = log_path.read_text()
        restarts = len(re.findall(r"exited with code", text))
        done = sum(1 for k, v in answered.items() if k.startswith("valid") and v == "/sfx/done")
        print(f"junk datagrams: {args.junk} in {elapsed:.1f} s; valid requests: {valid_sent}")
        print(f"server alive: {alive}; worker restarts: {restarts}; exit code on SIGINT: {proc.returncode}")
        print(f"valid requests answered with files: {done}/{valid_sent}")
        print(f"resident memory (server + worker): {rss_start / 1024:.0f} MB -> {rss_end / 1024:.0f} MB "
              f"(growth {(rss_end - rss_start) / 1024:+.0f} MB)")
        print(f"log bytes written during the fuzz: {log_path.stat().st_size - started_log}")
        strays = [p for p in folder.rglob("*") if p.is_file() and p not in (take, log_path) and project not in p.parents]
        print(f"files written outside the project: {len(strays)}")


if __name__ == "__main__":
    main()

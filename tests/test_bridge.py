"""The OSC bridge over real UDP on 127.0.0.1: replies, errors, crashes, bursts, fuzz."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
import numpy as np
import soundfile as sf
from pythonosc.osc_packet import OscPacket

from bridge.server import encode
from tests.conftest import hum


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.inbox: list[tuple[str, list[Any]]] = []

    def send(self, address: str, *args: Any) -> None:
        self.sock.sendto(encode(address, list(args)), ("127.0.0.1", self.port))

    def raw(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.port))

    def pump(self, timeout: float) -> None:
        self.sock.settimeout(timeout)
        try:
            while True:
                data, _ = self.sock.recvfrom(65536)
                for timed in OscPacket(data).messages:
                    self.inbox.append((timed.message.address, list(timed.message.params)))
                self.sock.settimeout(0.0)
        except (BlockingIOError, socket.timeout):
            pass

    def wait(self, predicate, timeout: float = 30.0) -> list[tuple[str, list[Any]]]:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.inbox):
                return self.inbox
            self.pump(0.05)
        raise AssertionError(f"timed out; got {self.inbox[-5:]}")

    def answer(self, rid: str, addresses: tuple[str, ...], timeout: float = 30.0) -> tuple[str, list[Any]]:
        self.wait(lambda box: any(a in addresses and p and str(p[0]) == rid for a, p in box), timeout)
        return next((a, p) for a, p in self.inbox if a in addresses and p and str(p[0]) == rid)


def _start(project: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "sfxcli", "serve", "--port", "0", "--project", str(project), *extra],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = re.search(r"listening on udp 127\.0\.0\.1:(\d+)", line)
    assert match, line
    return proc, int(match.group(1))


@pytest.fixture()
def imitation(tmp_path: Path) -> Path:
    path = tmp_path / "hum.wav"
    sf.write(path, hum(1.0), 16000)
    sf.write(tmp_path / "silent.wav", np.zeros(16000), 16000)  # a reference the fx_like cases refuse
    return path


@pytest.fixture()
def server(project: Path) -> Iterator[tuple[subprocess.Popen[str], Client]]:
    proc, port = _start(project, "--max-queue", "8")
    yield proc, Client(port)
    assert _stop(proc) == 0


def _stop(proc: subprocess.Popen[str]) -> int:
    """Ctrl-C the server; a server that does not stop is a failure, and is killed so it cannot linger."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        raise AssertionError("sfx serve did not stop within 15 s of SIGINT") from None


def _start_long_job(client: Client, folder: Path, rid: str) -> None:
    """A request that runs for seconds (30 synthesised candidates of a 20 s take); returns once it has started."""
    long = folder / f"{rid}-long.wav"
    sf.write(long, hum(20.0), 16000)
    client.send("/sfx/generate", rid, str(long), "engine", "variations", 8, "candidates", 30, "engine", "embedded")
    client.wait(lambda box: any(a == "/sfx/progress" and p[0] == rid for a, p in box))


def _no_partials(project: Path) -> None:
    assert not [p for p in project.rglob("*") if ".partial." in p.name]


def test_generate_is_accepted_then_done_with_files(server, imitation: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = server
    client.send("/sfx/generate", "job1", str(imitation), "door creak", "variations", 2, "seed", 5)
    address, args = client.answer("job1", ("/sfx/done", "/sfx/error"))
    assert address == "/sfx/done", args
    paths = [Path(p) for p in args[1:]]
    assert len(paths) == 2 and all(p.is_file() and project in p.parents for p in paths)
    kinds = [a for a, p in client.inbox if p and p[0] == "job1"]
    assert kinds[0] == "/sfx/accepted" and "/sfx/progress" in kinds


def test_generate_options_reach_the_pipeline(server, imitation: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = server
    client.send("/sfx/generate", "opt", str(imitation), "whoosh", "variations", 1, "seconds", 2.5, "format", "flac",
                "sample_rate", 44100, "subfolder", "takes/whooshes", "seed", 9)
    address, args = client.answer("opt", ("/sfx/done", "/sfx/error"))
    assert address == "/sfx/done", args
    path = Path(args[1])
    info = sf.info(path)
    assert path.suffix == ".flac" and info.samplerate == 44100 and 2.5 <= info.duration < 3.0
    assert path.parent.name == "whooshes" and path.parent.parent.name == "takes"


def test_fx_like_processes_results_like_a_reference(server, imitation: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A DAW asks for results that sit in a reference's space: done, and the results carry its reverb tail."""
    from pedalboard import Pedalboard, Reverb

    _, client = server
    dry = hum(1.0, sr=22050)
    wet = Pedalboard([Reverb(room_size=0.95, wet_level=0.7, dry_level=0.3)])(
        np.concatenate([dry, np.zeros(22050)])[None].astype(np.float32), 22050)[0]
    sf.write(tmp_path / "hall.wav", wet, 22050)
    client.send("/sfx/generate", "like", str(imitation), "door creak", "variations", 1, "seed", 3, "fx_like",
                str(tmp_path / "hall.wav"), "engine", "embedded", "subfolder", "hall")
    client.send("/sfx/generate", "plain", str(imitation), "door creak", "variations", 1, "seed", 3,
                "engine", "embedded", "subfolder", "plain")
    results = {}
    for rid in ("like", "plain"):
        address, args = client.answer(rid, ("/sfx/done", "/sfx/error"), timeout=60)
        assert address == "/sfx/done", args
        results[rid] = json.loads(Path(args[1]).with_suffix(".json").read_text())
    assert results["like"]["fx"] == ["like hall.wav"] and "like hall.wav" not in results["plain"]["fx"]
    effects = results["like"]["parameters"]["fx_chains"]["like hall.wav"]
    reverb = next(dict(e["params"]) for e in effects if e["type"] == "Reverb")
    assert reverb["room_size"] > 0.5 and reverb["wet_level"] > 0.2  # it heard the hall


def test_ping_status_presets_project(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = server
    client.send("/sfx/ping", "p")
    assert client.answer("p", ("/sfx/pong",))[1][1]
    client.send("/sfx/status", 7)
    status = client.answer("7", ("/sfx/status",))[1]
    assert status[1] == "auto" and status[3] in ("idle", "busy", "starting")
    client.send("/sfx/presets", "l")
    assert "creak" in client.answer("l", ("/sfx/presets",))[1]
    inner = tmp_path / "project" / "scene 2"  # inside the server's --project: allowed
    inner.mkdir()
    client.send("/sfx/project", "pr", str(inner))
    assert client.answer("pr", ("/sfx/project", "/sfx/error"))[1][1] == str(inner.resolve())
    other = tmp_path / "other"  # outside it: refused (tests/test_bridge_security.py has the rest)
    other.mkdir()
    client.send("/sfx/project", "out", str(other))
    assert "outside the folders this server was started with" in client.answer("out", ("/sfx/error",))[1][1]


ERROR_CASES = [
    ("missing-file", "/sfx/generate", lambda im: ["e1", "/no/such/file.wav", "creak"], "imitation does not exist"),
    ("relative", "/sfx/generate", lambda im: ["e2", "hum.wav", "creak"], "absolute"),
    ("wrong-type", "/sfx/generate", lambda im: ["e3", 42, "creak"], "must be a non-empty str"),
    ("missing-args", "/sfx/generate", lambda im: ["e4", str(im)], "needs: id"),
    ("odd-options", "/sfx/generate", lambda im: ["e5", str(im), "creak", "variations"], "key/value pairs"),
    ("unknown-option", "/sfx/generate", lambda im: ["e6", str(im), "creak", "colour", "red"], "unknown option"),
    ("bad-value", "/sfx/generate", lambda im: ["e7", str(im), "creak", "variations", "many"], "must be int"),
    ("bad-range", "/sfx/generate", lambda im: ["e8", str(im), "creak", "variations", 0], "variations must be"),
    ("escape", "/sfx/generate", lambda im: ["e9", str(im), "creak", "subfolder", "../../x"], "inside the project"),
    ("engine", "/sfx/generate", lambda im: ["e10", str(im), "creak", "engine", "stable-audio"], "engine must be one of"),
    ("library", "/sfx/generate", lambda im: ["e14", str(im), "creak", "library", "relative/folder"], "absolute path"),
    ("loudness", "/sfx/generate", lambda im: ["e15", str(im), "creak", "lufs", 20.0], "lufs must be -70..0"),
    ("both-levels", "/sfx/generate", lambda im: ["e16", str(im), "creak", "lufs", -16.0, "peak", -1.0], "not both"),
    ("fx-like-relative", "/sfx/generate", lambda im: ["e17", str(im), "creak", "fx_like", "refs/room.wav"],
     "absolute path"),
    ("fx-like-not-audio", "/sfx/generate", lambda im: ["e18", str(im), "creak", "fx_like", str(im.with_suffix(".txt"))],
     "does not exist"),
    ("fx-like-silent", "/sfx/generate", lambda im: ["e19", str(im), "creak", "fx_like", str(im.parent / "silent.wav")],
     "is silent"),
    ("unknown-address", "/sfx/explode", lambda im: ["e11"], "unknown address"),
    ("cancel-unknown", "/sfx/cancel", lambda im: ["e12"], "no queued or running"),
    ("bad-project", "/sfx/project", lambda im: ["e13", "/no/such/folder"], "does not exist"),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_error_paths_are_answered_and_server_lives(case, server, imitation: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = server
    _, address, make, needle = case
    args = make(imitation)
    client.send(address, *args)
    reply = client.answer(str(args[0]), ("/sfx/error",))
    assert needle in reply[1][1]
    client.send("/sfx/ping", "alive")
    client.answer("alive", ("/sfx/pong",))


def test_malformed_and_oversized_datagrams_get_errors(server) -> None:  # type: ignore[no-untyped-def]
    _, client = server
    client.raw(b"\x00\x01garbage")
    client.raw(encode("/sfx/ping", ["x" * 9000]))
    client.raw(encode("/sfx/ping", []))
    client.wait(lambda box: sum(1 for a, _ in box if a == "/sfx/error") >= 3, 10)
    messages = [p[1] for a, p in client.inbox if a == "/sfx/error"]
    assert any("malformed" in m for m in messages)
    assert any("limit is 8192" in m for m in messages)
    assert any("request id" in m for m in messages)


def test_duplicate_id_and_queued_cancel(server, imitation: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = server
    for i in range(3):
        client.send("/sfx/generate", f"q{i}", str(imitation), "whoosh", "variations", 6)
    client.send("/sfx/generate", "q2", str(imitation), "whoosh")
    client.send("/sfx/cancel", "q2")
    client.wait(lambda box: sum(1 for a, p in box if p and p[0] == "q2" and a in ("/sfx/error", "/sfx/cancelled")) >= 2)
    answers = [a for a, p in client.inbox if p and p[0] == "q2" and a in ("/sfx/error", "/sfx/cancelled", "/sfx/done")]
    assert answers[:2] == ["/sfx/error", "/sfx/cancelled"]


def test_running_job_can_be_cancelled(server, tmp_path: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = server
    _start_long_job(client, tmp_path, "run1")
    client.send("/sfx/cancel", "run1")
    assert client.answer("run1", ("/sfx/cancelled", "/sfx/done", "/sfx/error"))[0] == "/sfx/cancelled"
    assert not list((project / "sfx").glob("*.wav"))
    _no_partials(project)


def test_killed_worker_answers_error_and_recovers(server, tmp_path: Path, imitation: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = server
    _start_long_job(client, tmp_path, "k1")
    client.send("/sfx/status", "s")
    pid = client.answer("s", ("/sfx/status",))[1][8]
    os.kill(pid, signal.SIGKILL)
    address, args = client.answer("k1", ("/sfx/error", "/sfx/done"))
    assert address == "/sfx/error" and "worker stopped" in args[1]
    client.send("/sfx/generate", "k2", str(imitation), "creak", "variations", 1)
    assert client.answer("k2", ("/sfx/done", "/sfx/error"))[0] == "/sfx/done"
    _no_partials(project)


def test_burst_of_200_each_answered_once(server, imitation: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = server
    ids = [f"b{i}" for i in range(200)]
    for rid in ids:
        client.send("/sfx/generate", rid, str(imitation), "click", "variations", 1)
    final = ("/sfx/done", "/sfx/error")
    client.wait(lambda box: len({p[0] for a, p in box if a in final}) >= 200, 120)
    answers: dict[str, list[str]] = {}
    for address, params in client.inbox:
        if address in final:
            answers.setdefault(params[0], []).append(address)
    assert sorted(answers) == sorted(ids)
    assert all(len(v) == 1 for v in answers.values())
    busy = [p for a, p in client.inbox if a == "/sfx/error"]
    assert all("busy" in p[1] for p in busy)
    done = sum(1 for v in answers.values() if v == ["/sfx/done"])
    assert done >= 8 and len(list((project / "sfx").glob("*.wav"))) == done
    _no_partials(project)


def test_hostile_labels_stay_in_the_project(server, imitation: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = server
    for i, label in enumerate(["../../../escape", "/etc/passwd", "🔥" * 50, "x" * 400]):
        client.send("/sfx/generate", f"h{i}", str(imitation), label, "variations", 1)
        address, args = client.answer(f"h{i}", ("/sfx/done", "/sfx/error"))
        assert address == "/sfx/done", args
        assert (project / "sfx").resolve() == Path(args[1]).resolve().parent


def test_fuzzed_datagrams_never_stop_the_server(server) -> None:  # type: ignore[no-untyped-def]
    proc, client = server
    rng = random.Random(1234)
    seeds = [encode("/sfx/generate", ["f", "/tmp/x.wav", "creak", "variations", 2]), encode("/sfx/status", ["s"]),
             encode("/sfx/ping", [1])]
    for i in range(3000):
        if i % 3 == 0:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        else:
            data = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data[: rng.randrange(1, len(data) + 1)])
        client.raw(data)
        if i % 200 == 0:
            client.pump(0.0)
        if i % 50 == 0:
            time.sleep(0.005)  # UDP drops what overflows a buffer: pace it like a busy network, not a flood
    # the server still answers (ask again should a datagram be dropped under load)
    for attempt in range(10):
        client.send("/sfx/ping", f"after-fuzz-{attempt}")
        try:
            client.answer(f"after-fuzz-{attempt}", ("/sfx/pong",), 3)
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("the server stopped answering after the fuzz")
    assert proc.poll() is None
    assert sum(1 for a, _ in client.inbox if a == "/sfx/error") > 100


def test_token_is_required_when_set(project: Path) -> None:
    proc, port = _start(project, "--token", "s3cret")
    try:
        client = Client(port)
        client.send("/sfx/ping", "no-token")
        assert "token" in client.answer("no-token", ("/sfx/error",))[1][1]
        client.send("/sfx/ping", "with-token", "token", "s3cret")
        client.answer("with-token", ("/sfx/pong",))
    finally:
        _stop(proc)


def test_remote_bind_needs_a_flag_and_token(project: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("serve", "--host", "0.0.0.0", "--port", "0", "--project", str(project))
    assert code == 50 and "--allow-remote" in err
    code, _, err = run_cli("serve", "--host", "0.0.0.0", "--allow-remote", "--port", "0", "--project", str(project))
    assert code == 50 and "token" in err


def test_sigterm_answers_in_flight_and_leaves_no_partials(project: Path, tmp_path: Path, imitation: Path) -> None:
    proc, port = _start(project)
    client = Client(port)
    _start_long_job(client, tmp_path, "t1")
    client.send("/sfx/generate", "t2", str(imitation), "creak")
    client.wait(lambda box: any(a == "/sfx/accepted" and p[0] == "t2" for a, p in box))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    client.pump(0.5)
    finals = {p[0]: a for a, p in client.inbox if a in ("/sfx/done", "/sfx/error", "/sfx/cancelled")}
    assert set(finals) == {"t1", "t2"}
    _no_partials(project)


def test_send_subcommand_round_trip(server, imitation: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    _, client = server
    code, out, err = run_cli("send", str(imitation), "door creak", "--port", str(client.port), "-o", "variations=2", "-q")
    assert code == 0, err
    assert len(out.splitlines()) == 2 and all(Path(p).is_file() for p in out.splitlines())
    code, out, err = run_cli("send", "/no/file.wav", "creak", "--port", str(client.port), "-q")
    assert code == 50 and err.startswith("error: server answered")


def test_liblo_oscsend_is_answered(server, imitation: Path) -> None:  # type: ignore[no-untyped-def]
    """A request from another OSC implementation (liblo, installed by .ci/run)."""
    oscsend = shutil.which("oscsend")
    assert oscsend, "liblo-tools' oscsend is required (apt-get install liblo-tools)"
    _, client = server
    # oscsend sends from its own port: point replies at our client with a status request's sender instead
    subprocess.run([oscsend, "localhost", str(client.port), "/sfx/generate", "sss", "liblo1", str(imitation), "creak"],
                   check=True, timeout=10)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list((Path(imitation).parent / "project" / "sfx").glob("*_sfx_*.wav")):
        time.sleep(0.1)
    assert list((Path(imitation).parent / "project" / "sfx").glob("*.wav"))

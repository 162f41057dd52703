"""Tried as an attacker on this machine would: nothing written outside the project, no packet stops the server.

Every test here failed on the code before the hardening: each names the finding it covers.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Iterator

import pytest
import soundfile as sf

from tests.conftest import hum
from tests.test_bridge import Client, _stop


def _serve(project: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], Client]:
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "sfxcli", "serve", "--port", "0", "--project", str(project),
                             "--engine", "embedded", *extra],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=environment)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = re.search(r"listening on udp 127\.0\.0\.1:(\d+)", line)
    assert match, line + (proc.stderr.read() if proc.poll() is not None else "")
    return proc, Client(int(match.group(1)))


@pytest.fixture()
def take(tmp_path: Path) -> Path:
    path = tmp_path / "take.wav"
    sf.write(path, hum(0.6), 16000)
    return path


@pytest.fixture()
def served(tmp_path: Path, project: Path) -> Iterator[tuple[subprocess.Popen[str], Client]]:
    roots = tmp_path / "roots"
    (roots / "other project").mkdir(parents=True)
    library = tmp_path / "libraries" / "mine"
    library.mkdir(parents=True)
    sf.write(library / "door creak.wav", hum(1.0), 16000)
    proc, client = _serve(project, "--project-root", str(project), "--project-root", str(roots),
                          "--library-root", str(tmp_path / "libraries"))
    yield proc, client
    assert _stop(proc) == 0


def _alive(client: Client, rid: str, tries: int = 20) -> None:
    """The server answers a ping; asked again every half second, as a UDP client would (a flood may drop one)."""
    for attempt in range(tries):
        client.send("/sfx/ping", f"{rid}-{attempt}")
        try:
            client.answer(f"{rid}-{attempt}", ("/sfx/pong",), timeout=0.5)
            return
        except AssertionError:
            continue
    raise AssertionError(f"no pong in {tries} tries")


# -- the project folder is the server's decision -------------------------------------------------------

def test_a_client_cannot_move_the_project_outside_the_roots(served, tmp_path: Path, take: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = served
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    client.send("/sfx/project", "p1", str(outside))
    assert "outside the folders this server was started with" in client.answer("p1", ("/sfx/error",))[1][1]
    escape = tmp_path / "roots" / "escape"  # a link inside a root that points out of it
    escape.symlink_to(outside)
    client.send("/sfx/project", "p2", str(escape))
    assert "outside" in client.answer("p2", ("/sfx/error",))[1][1]
    client.send("/sfx/project", "p3", str(tmp_path / "roots" / "other project"))
    assert client.answer("p3", ("/sfx/project",))[1][1] == str((tmp_path / "roots" / "other project").resolve())
    client.send("/sfx/generate", "g", str(take), "creak", "variations", 1, "seed", 1)
    done = client.answer("g", ("/sfx/done", "/sfx/error"))
    assert done[0] == "/sfx/done" and Path(done[1][1]).parent == (tmp_path / "roots" / "other project" / "sfx").resolve()
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("subfolder", ["sfx\\..\\..\\win", "~", " ", "take\nfive", "bell\x07", "CON", "nul.txt",
                                       "a/../b", "/".join(["d"] * 1500), "x" * 300, "/abs", "C:win", ".hidden",
                                       "trailing. ", "a:b"])
def test_every_unsafe_subfolder_is_refused_over_osc(served, take: Path, project: Path, subfolder: str) -> None:  # type: ignore[no-untyped-def]
    _, client = served
    client.send("/sfx/generate", "s", str(take), "creak", "subfolder", subfolder)
    address, args = client.answer("s", ("/sfx/error", "/sfx/accepted"))
    assert address == "/sfx/error" and "internal error" not in args[1], args
    assert sorted(p.name for p in project.iterdir()) == []  # nothing made inside the project either
    _alive(client, "after")


@pytest.mark.parametrize("subfolder", ["sfx\\..\\win", "~", "CON", "a/../b", "x" * 300, "tab\there"])
def test_the_cli_applies_the_same_name_policy(run_cli, take: Path, project: Path, subfolder: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("gen", str(take), "creak", "-p", str(project), "--subfolder", subfolder)
    assert code == 2 and out == "" and err.startswith("error: ") and "Traceback" not in err
    assert list(project.iterdir()) == []


# -- writes that cannot be redirected ------------------------------------------------------------------

def test_a_symlink_at_the_next_result_name_is_skipped_never_followed(run_cli, take: Path, project: Path,  # type: ignore[no-untyped-def]
                                                                      tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = project / "sfx"
    folder.mkdir()
    for name in ("DOORCreak_door creak_sfx_project_001.wav", "DOORCreak_door creak_sfx_project_002.json"):
        (folder / name).symlink_to(victim)
    code, out, err = run_cli("gen", str(take), "door creak", "-p", str(project), "-n", "1", "--seed", "2")
    assert code == 0, err
    assert Path(out.strip()).name == "DOORCreak_door creak_sfx_project_003.wav"
    assert victim.read_text() == "precious"
    assert (folder / "DOORCreak_door creak_sfx_project_001.wav").is_symlink()


def test_a_symlink_at_the_temp_name_is_never_written_through(run_cli, take: Path, project: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a temp name an attacker guessed: the file is created exclusively, the link is left alone."""
    import secrets

    import sfxcli.output as output

    victim = tmp_path / "victim.wav"
    victim.write_bytes(b"precious")
    folder = project / "sfx"
    folder.mkdir()
    guesses = iter(["0badc0de0badc0de"] * 2)
    random_hex = secrets.token_hex
    monkeypatch.setattr(output.secrets, "token_hex", lambda n: next(guesses, None) or random_hex(n))
    for suffix in ("wav", "json"):
        planted = folder / f".DOORCreak_door creak_sfx_project.{os.getpid()}.0badc0de0badc0de.partial.{suffix}"
        planted.symlink_to(victim)
    code, _, err = run_cli("gen", str(take), "door creak", "-p", str(project), "-n", "1")
    assert code == 0, err
    assert victim.read_bytes() == b"precious"


def test_a_subfolder_swapped_for_a_link_after_the_check_is_refused_at_write_time(take: Path, project: Path,
                                                                                   tmp_path: Path) -> None:
    from sfxcli.errors import OutputError
    from sfxcli.output import output_folder, write_file

    folder = output_folder(project, "sfx/doors")
    (project / "sfx").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "sfx" / "doors").symlink_to(outside)  # planted between the request's check and the write
    with pytest.raises(OutputError, match="is a link or not a folder"):
        write_file(folder, "result.wav", b"RIFF")
    assert list(outside.iterdir()) == []


def test_a_project_moved_out_of_the_roots_after_the_check_is_refused_at_write_time(tmp_path: Path) -> None:
    from sfxcli.errors import OutputError
    from sfxcli.output import output_folder, write_file

    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "project").mkdir(parents=True)
    outside.mkdir()
    folder = output_folder(root / "project", "sfx", roots=(root,))
    (root / "project").rmdir()
    (root / "project").symlink_to(outside)
    with pytest.raises(OutputError):
        write_file(folder, "result.wav", b"RIFF")
    assert list(outside.iterdir()) == []


# -- no packet stops the server ------------------------------------------------------------------------

def test_one_packet_crashers_are_error_replies(served, tmp_path: Path, take: Path) -> None:  # type: ignore[no-untyped-def]
    proc, client = served
    long_name = "/" + "n" * 300 + ".wav"
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    cases = {
        "long-component": ["/sfx/generate", long_name, "creak"],
        "no-such-user": ["/sfx/generate", "~nosuchuser/take.wav", "creak"],
        "not-a-folder": ["/sfx/generate", str(take) + "/inside.wav", "creak"],
        "link-loop": ["/sfx/generate", str(loop / "take.wav"), "creak"],
        "long-project": ["/sfx/project", "/" + "p" * 5000],
        "long-project-part": ["/sfx/project", "/tmp/" + "p" * 400],
        "long-library": ["/sfx/generate", str(take), "creak", "library", "/" + "l" * 5000],
        "deep-subfolder": ["/sfx/generate", str(take), "creak", "subfolder", "/".join(["d"] * 1500)],
        "fifo": ["/sfx/generate", str(_fifo(tmp_path / "take-fifo.wav")), "creak"],
    }
    for rid, (address, *args) in cases.items():
        client.send(address, rid, *args)
        reply = client.answer(rid, ("/sfx/error", "/sfx/accepted"), timeout=10)
        assert reply[0] == "/sfx/error" and "internal error" not in reply[1][1], (rid, reply)
    _alive(client, "still")
    assert proc.poll() is None


def test_library_folders_are_limited_like_project_roots(served, take: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = served
    client.send("/sfx/generate", "etc", str(take), "creak", "library", "/etc")
    assert "outside the folders this server was started with" in client.answer("etc", ("/sfx/error",))[1][1]
    client.send("/sfx/generate", "mine", str(take), "door creak", "library", str(tmp_path / "libraries" / "mine"),
                "engine", "library", "variations", 1)
    assert client.answer("mine", ("/sfx/done", "/sfx/error"))[0] == "/sfx/done"


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def test_a_fifo_in_a_library_wedges_nothing(served, take: Path, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    library = tmp_path / "libraries" / "mine"
    _fifo(library / "trap door creak.wav")
    _fifo(library / "manifest.csv")
    code, _, err = run_cli("library", "index", str(library))
    assert code == 0 and "skipped trap door creak.wav: not a regular file" in err
    _, client = served
    client.send("/sfx/generate", "lib", str(take), "door creak", "library", str(library), "engine", "library",
                "variations", 1)
    assert client.answer("lib", ("/sfx/done", "/sfx/error"), timeout=60)[0] == "/sfx/done"
    _alive(client, "after-fifo")


def _bad_tokens(client: Client, rid: str, token: object) -> None:
    client.send("/sfx/ping", rid, "token", token)


def test_tokens_compare_as_bytes_come_from_env_or_file_and_bad_ones_are_throttled(project: Path,
                                                                                   tmp_path: Path) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text("s3cret\n")
    for how, extra, env in (("file", ["--token-file", str(secret_file)], {}), ("env", [], {"SFX_TOKEN": "s3cret"})):
        proc, client = _serve(project, *extra, env=env)
        try:
            assert "s3cret" not in " ".join(proc.args)  # type: ignore[arg-type]
            client.send("/sfx/ping", "ok", "token", "s3cret")
            client.answer("ok", ("/sfx/pong",))
            _bad_tokens(client, "utf", "sécret✓")  # used to raise TypeError in compare_digest and stop the server
            assert client.answer("utf", ("/sfx/error",))[1][1].startswith("missing or wrong token")
            client.send("/sfx/generate", "x" * 100, "/etc/passwd", "creak")  # no token: a short reply, no probing
            reply = client.wait(lambda box: any(a == "/sfx/error" and p[0] == "" for a, p in box))[-1]
            assert reply[1] == ["", "missing or wrong token: add the pair 'token', '<secret>' to every message"]
            for i in range(5):
                _bad_tokens(client, f"bad{i}", 1234)
            client.answer("bad1", ("/sfx/error",))  # failures 3 and 4 are answered; from the 5th on, silence
            client.pump(1.0)
            assert not [p for a, p in client.inbox if p and p[0] in ("bad2", "bad3", "bad4")]
            count = len(client.inbox)
            client.send("/sfx/ping", "throttled", "token", "s3cret")  # even the right token is ignored for a while
            client.pump(1.0)
            assert len(client.inbox) == count, how
            assert proc.poll() is None
        finally:
            assert _stop(proc) == 0
        assert "ignoring 127.0.0.1" in proc.stderr.read()  # type: ignore[union-attr]


def test_a_flood_of_junk_leaves_the_log_bounded(project: Path) -> None:
    proc, client = _serve(project)
    bad_type = b"/sfx/ping\x00\x00\x00,sQ\x00\x00id\x00\x00"  # an unknown type tag: python-osc logs a warning each
    flooder = Client(client.port)  # its replies pile up unread; the ping below asks from another socket
    try:
        for i in range(3000):
            flooder.raw(bad_type if i % 2 else os.urandom(40))
        _alive(client, "alive")
    finally:
        assert _stop(proc) == 0
    log = proc.stderr.read()  # type: ignore[union-attr]
    assert "Unhandled parameter type" not in log and len(log) < 2000, log[:500]


# -- hostile files --------------------------------------------------------------------------------------

def test_a_truncated_cache_is_rebuilt_with_a_warning(tmp_path: Path, run_cli, take: Path, project: Path) -> None:  # type: ignore[no-untyped-def]
    from sfxcli.library.sounds import features_path

    library = tmp_path / "lib"
    library.mkdir()
    for name in ("door creak.wav", "door slam.wav"):
        sf.write(library / name, hum(0.8), 16000)
    code, _, err = run_cli("search", str(take), "--library", str(library), "--top", "1")
    assert code == 0, err
    cache = features_path(library, "features")
    cache.write_bytes(cache.read_bytes()[:100])  # killed halfway through a save
    code, out, err = run_cli("search", str(take), "--library", str(library), "--top", "1")
    assert code == 0 and out.strip().endswith(".wav") and "is damaged" in err and "rebuilding" in err
    code, _, err = run_cli("gen", str(take), "door creak", "--library", str(library), "--engine", "library",
                           "-p", str(project), "-n", "1")
    assert code == 0, err


def _sparse_wav(path: Path, gigabytes: float) -> None:
    """A WAV whose header declares hours of 16-bit audio, the rest a sparse hole."""
    size = int(gigabytes * 2**30)
    header = (b"RIFF" + struct.pack("<I", size - 8) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 48000, 96000, 2, 16)
              + b"data" + struct.pack("<I", size - 44))
    with open(path, "wb") as handle:
        handle.write(header)
        handle.truncate(size)


def test_a_huge_sparse_imitation_is_refused_in_bounded_memory_and_time(tmp_path: Path) -> None:
    huge = tmp_path / "huge.wav"
    _sparse_wav(huge, 2.0)
    # VmHWM, not ru_maxrss: that one carries the forking parent's peak across exec
    code = ("import re, time\nfrom sfxcli.app import main\nt = time.monotonic()\n"
            f"try:\n    main(['gen', {str(huge)!r}, 'creak', '-p', {str(tmp_path)!r}])\nexcept SystemExit as e:\n"
            "    peak = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) // 1024\n"
            "    print('EXIT', e.code, round(time.monotonic() - t, 2), peak)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    _, exit_code, seconds, megabytes = result.stdout.split()
    assert exit_code == "18" and "is 22369.6 s long" in result.stderr, result.stderr
    assert float(seconds) < 5 and int(megabytes) < 400, result.stdout


def test_disk_full_is_one_line_exit_30_and_no_partial_file(tmp_path: Path, take: Path) -> None:
    """A real full disk: a 150 kB tmpfs in a private mount namespace (no root needed where user namespaces are on)."""
    disk = tmp_path / "small"
    disk.mkdir()
    script = (f"mount -t tmpfs -o size=150k sfx-full {str(disk)!r} && "
              f"{sys.executable} -m sfxcli gen {str(take)!r} 'door creak' -n 4 --seed 1 -p {str(disk)!r}; "
              f"echo EXIT $?; ls -A {str(disk)!r}/sfx")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert "EXIT 30" in result.stdout, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors and "is full" in errors[0]
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    listing = result.stdout.split("EXIT 30", 1)[1].split("\n")
    names = [name for name in listing if name.strip()]
    assert not [name for name in names if ".partial." in name], names
    stems = sorted(name.rsplit(".", 1)[0] for name in names)
    assert all(name.endswith((".wav", ".json")) for name in names), names
    assert all(count == 2 for count in Counter(stems).values()), names  # whole results, each with its sidecar

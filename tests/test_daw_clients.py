"""The DAW clients, run as their hosts run them: REAPER's script under Lua against a stand-in checked against
REAPER's API list, Pd vanilla headless, Ardour's own Lua interpreter, the Max and Live patches by structure;
each against a real `sfx serve`."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import soundfile as sf
import soxr
from wavinfo import WavInfoReader

from tests.conftest import REPO, bursts
from tests.test_bridge import Client, _stop

CLIENTS = REPO / "bridge" / "clients"
SFX = str(Path(sys.executable).parent / "sfx")


@pytest.fixture()
def studio(tmp_path: Path) -> Iterator[dict[str, object]]:
    """A projects folder the server may write in (its root), a REAPER-style project with a media folder, a
    3 s take with knocks at known times, and `sfx serve` on a free port."""
    root = tmp_path / "Music"
    media = root / "My Film" / "Media"
    media.mkdir(parents=True)
    take = media / "take 01.wav"
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is required (.ci/run installs it): it speaks the test take"
    spoken = tmp_path / "spoken.wav"
    subprocess.run([espeak, "-s", "140", "-w", str(spoken), "krrk  tok tok  krrrrk"], check=True, timeout=60)
    voice, rate = sf.read(spoken)
    voice = soxr.resample(voice, rate, 48000)  # as a DAW session at 48 kHz holds it
    sf.write(take, np.concatenate([voice, np.zeros(max(0, 3 * 48000 - len(voice)))])[: 3 * 48000], 48000)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen([SFX, "serve", "--port", "0", "--project", str(root), "--project-root", str(root),
                             "--engine", "embedded"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=env)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = re.search(r"listening on udp 127\.0\.0\.1:(\d+)", line)
    assert match, line
    yield {"root": root, "media": media, "take": take, "port": int(match.group(1)), "proc": proc,
           "client": Client(int(match.group(1))), "tmp": tmp_path}
    assert _stop(proc) == 0


# -- REAPER ------------------------------------------------------------------------------------------------

def _reaper(studio: dict[str, object], **scenario: object) -> subprocess.CompletedProcess[str]:
    lua = shutil.which("lua5.4")
    assert lua, "Lua 5.4 is required (.ci/run installs Debian's lua5.4)"
    tmp = Path(str(studio["tmp"]))
    values = {"imitation": str(studio["take"]), "media": str(studio["media"]), "resources": str(tmp / "reaper"),
              **scenario}
    lines = ",\n".join(f"  {k} = {json.dumps(v) if not isinstance(v, (list, tuple)) else '{' + ', '.join(json.dumps(x) for x in v) + '}'}"
                       for k, v in values.items())
    scenario_file = tmp / f"scenario-{len(list(tmp.glob('scenario-*')))}.lua"
    scenario_file.write_text("return {\n" + lines + "\n}\n")
    env = {**os.environ, "SFX_COMMAND": SFX, "SFX_PORT": str(studio["port"])}
    return subprocess.run([lua, str(REPO / "tests" / "clients" / "reaper_mock.lua"), str(CLIENTS / "reaper_sfx.lua"),
                           str(scenario_file)], capture_output=True, text=True, env=env, timeout=180)


def _events(output: str, kind: str) -> list[list[str]]:
    """The stand-in's lines of one kind, split into their tab-separated fields."""
    return [line.split("\t")[1:] for line in output.splitlines() if line.split("\t")[0] == kind]


def test_reaper_sends_what_is_heard_and_places_the_results_under_the_take(studio) -> None:  # type: ignore[no-untyped-def]
    result = _reaper(studio, answer="door creak,3", startoffs=0.5, length=1.5, position=12.25)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "SIGNATURE" not in out and "BLOCKING" not in out and "MESSAGE" not in out, out
    assert int(_events(out, "DEFER")[0][0]) > 3  # REAPER kept running its loop while sfx worked
    assert _events(out, "TRACK") == [["inserted", "2"]]  # right under the take's track (the second)
    [item] = _events(out, "ITEM")
    assert item[0] == "3" and item[1] == "sfx: door creak" and item[2] == "12.250000" and item[4] == "3"
    takes = _events(out, "TAKE")  # one item at the take's position, three takes, the first active
    files = [Path(take[0]) for take in takes]
    assert len(files) == 3 and all(f.is_file() and f.parent == Path(str(studio["media"])) / "sfx" for f in files)
    assert [take[2] for take in takes] == ["true", "false", "false"] and takes[0][1] == files[0].name
    assert _events(out, "UNDO") == [["begin"], ["end", "sfx: door creak"]]
    sidecar = json.loads(files[0].with_suffix(".json").read_text())
    assert sidecar["imitation"]["section"] == {"offset_seconds": 0.5, "length_seconds": 1.5, "reverse": False}
    assert abs(sidecar["imitation"]["seconds"] - 1.5) < 0.01
    assert WavInfoReader(str(files[0])).bext.time_reference == 12.25 * 48000
    assert not list((Path(str(studio["tmp"])) / "reaper" / "sfx-jobs").iterdir())  # its job files cleaned up


def test_reaper_resolves_a_reversed_section_source(studio) -> None:  # type: ignore[no-untyped-def]
    result = _reaper(studio, section=[1.0, 1.8, True], startoffs=0.3, length=1.0)
    assert result.returncode == 0 and "MESSAGE" not in result.stdout, result.stdout + result.stderr
    file = Path(_events(result.stdout, "TAKE")[0][0])
    section = json.loads(file.with_suffix(".json").read_text())["imitation"]["section"]
    # the section 1.0..2.8 s plays backwards; 0.3 s into it, for 1 s: the file's 1.5..2.5 s, reversed
    assert section["reverse"] is True and abs(section["offset_seconds"] - 1.5) < 1e-6
    assert abs(section["length_seconds"] - 1.0) < 1e-6


def test_reaper_messages_for_what_a_user_can_get_wrong(studio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    none = _reaper(studio, selected=False)
    assert _events(none.stdout, "MESSAGE")[0][0].startswith("Select the item") and "EXEC" not in none.stdout
    offline = _reaper(studio, offline=True)
    assert "is offline" in offline.stdout and "EXEC" not in offline.stdout
    stopped = dict(studio)
    stopped["port"] = 9  # nothing listens there
    down = _reaper(stopped)
    assert "nothing is listening" in down.stdout and "sfx serve --project-root" in down.stdout
    assert "ITEM" not in down.stdout


def test_reaper_cancel_stops_the_request_and_inserts_nothing(studio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    long = Path(str(studio["media"])) / "long take.wav"
    sf.write(long, bursts([0.5 * i for i in range(1, 38)], seconds=19.0, sr=48000), 48000)
    result = _reaper(studio, imitation=str(long), length=19.0, startoffs=0.0, answer="rain,8", close_after=8)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "GFX_QUIT" in result.stdout and "ITEM" not in result.stdout and "UNDO" not in result.stdout
    client: Client = studio["client"]  # type: ignore[assignment]
    for attempt in range(100):  # the running job stops at its next candidate
        client.send("/sfx/status", f"after-cancel-{attempt}")
        if client.answer(f"after-cancel-{attempt}", ("/sfx/status",))[1][5] == "":
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the cancelled request was still running after 10 s")
    assert not list((Path(str(studio["media"])) / "sfx").glob("*.wav"))  # cancelled before anything was written


def test_reaper_stand_in_only_offers_reapers_own_api() -> None:
    """Every function the script calls is in REAPER's published list (tests/clients/reaper_api.txt)."""
    names = {line.split("\t")[0] for line in (REPO / "tests" / "clients" / "reaper_api.txt").read_text().splitlines()
             if line and not line.startswith("#")}
    script = (CLIENTS / "reaper_sfx.lua").read_text()
    called = set(re.findall(r"\breaper\.(\w+)\s*\(", script)) | {f"gfx.{n}" for n in re.findall(r"\bgfx\.(\w+)\s*\(", script)}
    assert called and called <= names, called - names


# -- Pd vanilla ---------------------------------------------------------------------------------------------

def _pd_symbol(text: str) -> str:
    """A Pd atom that stays one symbol: spaces and Pd's special characters escaped."""
    return "".join("\\" + c if c in " ,;$\\" else c for c in text)


def _pd_atoms(line: str) -> list[str]:
    """A [print] line's atoms: split on unescaped spaces, escapes removed."""
    atoms, current, escaped = [], "", False
    for c in line:
        if escaped:
            current, escaped = current + c, False
        elif c == "\\":
            escaped = True
        elif c == " ":
            atoms, current = atoms + [current], ""
        else:
            current += c
    return atoms + [current]


def pd_available() -> bool:
    return shutil.which("pd") is not None


def pd_round_trip(take: Path, port: int, variations: int) -> float:
    """For bench/daw.py: seconds from starting Pd with the patch to its sfx-done."""
    started = time.perf_counter()
    code, events = _pd_run(port, f"sfx-request list bench-{time.time_ns()} {_pd_symbol(str(take))} door\\ creak "
                                 f"variations {variations} project {_pd_symbol(str(take.parent))}")
    assert code == 0, events
    return time.perf_counter() - started


def _pd(studio: dict[str, object], *sends: str) -> tuple[int, dict[str, list[list[str]]]]:
    return _pd_run(int(str(studio["port"])), *sends)


def _pd_run(port: int, *sends: str) -> tuple[int, dict[str, list[list[str]]]]:
    pd = shutil.which("pd")
    assert pd, "Pd is required (.ci/run installs Debian's puredata-core)"
    command = [pd, "-noprefs", "-nrt", "-nogui", "-noaudio", "-nomidi", "-stderr",
               "-open", str(CLIENTS / "sfx.pd"), "-open", str(REPO / "tests" / "clients" / "pd_quit.pd"),
               "-send", f"sfx-connect 127.0.0.1 {port}"]
    for message in sends:
        command += ["-send", message]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    events: dict[str, list[list[str]]] = {}
    for line in result.stderr.splitlines():
        name, sep, rest = line.partition(": ")
        if sep and name.startswith("sfx-"):
            events.setdefault(name[4:], []).append(_pd_atoms(rest))
    return result.returncode, events


def test_pd_vanilla_patch_sends_a_request_and_gets_the_paths(studio) -> None:  # type: ignore[no-untyped-def]
    take = str(studio["take"])
    code, events = _pd(studio, f"sfx-request list pd-1 {_pd_symbol(take)} door\\ creak variations 2 seed 7 "
                               f"position 4.5 project {_pd_symbol(str(studio['root']))}")
    assert code == 0, events
    assert events["accepted"][0][0] == "pd-1" and events["progress"]
    done = events["done"][0]
    assert done[0] == "pd-1" and len(done) == 3
    files = [Path(p) for p in done[1:]]
    assert all(f.is_file() and f.parent == Path(str(studio["root"])) / "sfx" for f in files)
    assert WavInfoReader(str(files[0])).bext.time_reference == 4.5 * 48000  # "position 4.5" went as a number


def test_pd_gets_errors_and_replies_on_a_fixed_port(studio) -> None:  # type: ignore[no-untyped-def]
    code, events = _pd(studio, "sfx-request list pd-2 /no/such/take.wav door\\ creak")
    assert code == 1 and events["error"][0][0] == "pd-2" and "does not exist" in " ".join(events["error"][0])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, events = _pd(studio, f"sfx-listen {port}", f"sfx-request list pd-3 {_pd_symbol(str(studio['take']))} "
                                                     f"whoosh variations 1 reply_port {port}")
    assert code == 0 and events["done"][0][0] == "pd-3", events


# -- Max and Ableton Live (Max for Live): structure, since neither host runs here ---------------------------

MAX_OBJECTS = {line.strip() for line in (REPO / "tests" / "clients" / "max_objects.txt").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
# what Max creates for these classes (its own reference pages), so the saved counts cannot drift from Max's
FIXED_COUNTS = {"live.object": (2, 1), "live.path": (1, 3), "udpsend": (1, 0), "udpreceive": (1, 1), "zl": (2, 2),
                "prepend": (1, 1), "float": (2, 1), "i": (2, 1), "+": (2, 1), "counter": (5, 4), "tosymbol": (1, 1),
                "conformpath": (1, 2), "regexp": (2, 5), "plugin~": (2, 2), "plugout~": (2, 2), "print": (1, 0),
                "textedit": (1, 4), "dropfile": (1, 2), "button": (1, 1), "number": (1, 2), "live.text": (1, 2),
                "live.numbox": (1, 2), "message": (2, 1), "comment": (1, 0), "outlet": (1, 0)}
LIVE_OBJECT_MESSAGES = {"get", "set", "call", "getid", "getpath", "gettype", "getinfo", "id", "bang"}
LIVE_PATH_MESSAGES = {"path", "goto", "getid", "getpath", "getchildren", "getcount", "bang"}


def _max_class(box: dict[str, object]) -> str:
    return str(box["text"]).split()[0] if box["maxclass"] == "newobj" else str(box["maxclass"])


def _expected_counts(box: dict[str, object]) -> tuple[int, int] | None:
    cls, words = _max_class(box), str(box.get("text", "")).split()[1:]
    if cls == "route":
        return 2, len(words) + 1
    if cls == "pack":
        return len(words), 1
    if cls in ("t", "trigger"):
        return 1, len(words)
    if cls == "expr":
        return max(int(n) for n in re.findall(r"\$[if](\d+)", " ".join(words))), 1
    if cls == "sprintf":
        return len(re.findall(r"%[ld]+", " ".join(words))), 1
    return FIXED_COUNTS.get(cls)


def _first_word(box: dict[str, object]) -> str:
    """What a box sends first: a message box's first word, prepend's or sprintf's first word."""
    words = str(box.get("text", "")).split()
    cls = _max_class(box)
    if cls in ("prepend", "sprintf"):
        return (words[2] if cls == "sprintf" and words[1] == "symout" else words[1])
    return words[0] if words else ""


@pytest.mark.parametrize("name", ["sfx.maxpat", "live/sfx-device.maxpat"])
def test_max_patches_use_max_objects_wired_as_max_wires_them(name: str) -> None:
    patch = json.loads((CLIENTS / name).read_text())["patcher"]
    boxes = {b["box"]["id"]: b["box"] for b in patch["boxes"]}
    assert len(boxes) == len(patch["boxes"])
    for box in boxes.values():
        assert _max_class(box) in MAX_OBJECTS, box
        expected = _expected_counts(box)
        assert expected is not None, f"no counts known for {_max_class(box)}"
        assert (box["numinlets"], box["numoutlets"]) == expected, box
    fed: dict[tuple[str, int], list[dict[str, object]]] = {}
    for cord in (line["patchline"] for line in patch["lines"]):
        (source, outlet), (target, inlet) = cord["source"], cord["destination"]
        assert outlet < boxes[source]["numoutlets"] and inlet < boxes[target]["numinlets"], cord
        fed.setdefault((target, inlet), []).append(boxes[source])
    for (target, inlet), sources in fed.items():
        cls = _max_class(boxes[target])
        for source in sources:
            if inlet == 0 and cls == "live.object" and _max_class(source) in ("message", "prepend"):
                assert _first_word(source) in LIVE_OBJECT_MESSAGES, source
            if cls == "live.path" and _max_class(source) in ("message", "sprintf"):
                assert _first_word(source) in LIVE_PATH_MESSAGES, source
            if cls == "counter" and inlet == 0 and _max_class(source) == "message":  # a counter counts bangs
                word = _first_word(source)
                assert word in ("bang", "set", "reset", "next", "inc", "dec") or word.isdigit(), source
            if inlet == 1 and cls == "live.object":  # the id from a live.path's left outlet
                assert _max_class(source) in ("live.path", "t"), source


def _osc_requests(name: str) -> list[str]:
    patch = json.loads((CLIENTS / name).read_text())["patcher"]
    boxes = {b["box"]["id"]: b["box"] for b in patch["boxes"]}
    senders = {line["patchline"]["source"][0] for line in patch["lines"]
               if _max_class(boxes[line["patchline"]["destination"][0]]) == "udpsend"}
    return [str(boxes[s]["text"]) for s in senders]


@pytest.mark.parametrize("name", ["sfx.maxpat", "live/sfx-device.maxpat"])
def test_max_patches_send_requests_sfx_serve_accepts(name: str, tmp_path: Path) -> None:
    from bridge.protocol import parse
    from sfxcli.request import from_osc

    [template] = _osc_requests(name)
    take = tmp_path / "Live Project" / "Samples" / "Recorded" / "take 1.wav"
    values = {"$1": "live-1", "$2": str(take), "$3": "door creak", "$4": 4, "$5": 0.5, "$6": 1.25, "$7": 8.0,
              "$8": str(tmp_path / "Live Project")}
    address, *words = template.split()
    arguments = [values.get(w, w) for w in words]
    arguments = [int(a) if isinstance(a, str) and a.isdigit() else a for a in arguments]
    request = parse(address, arguments)
    assert request.verb == "generate" and request.args == (str(take), "door creak")
    assert request.reply_port == 9002  # and the patch listens there:
    assert "udpreceive 9002" in (CLIENTS / name).read_text()
    built = from_osc(take, "door creak", request.options, {})
    assert built.variations == 4
    if "offset" in request.options:
        assert (built.offset, built.length, built.position) == (0.5, 1.25, 8.0)
        assert built.project == tmp_path / "Live Project" and built.subfolder == "Samples/sfx"


def test_the_live_device_builds_into_an_amxd_max_can_open(tmp_path: Path) -> None:
    sys.path.insert(0, str(CLIENTS / "live"))
    try:
        import build_amxd
    finally:
        sys.path.pop(0)
    data = build_amxd.build()
    assert data[:12] == b"ampf\x04\x00\x00\x00aaaa" and data[12:16] == b"meta"
    assert build_amxd.read(data) == json.loads((CLIENTS / "live" / "sfx-device.maxpat").read_text())
    replies = " ".join(_osc_requests("live/sfx-device.maxpat"))
    assert "/sfx/generate" in replies


# -- Ardour: the real GUI on a virtual display, driven by a hook; checked headless -------------------------

ARDOUR_TESTS = REPO / "tests" / "clients" / "ardour"
SIGNAL_BITS = 49  # Ardour 7.3's LuaSignal bitset: LuaTimerS = 46, LuaTimerDS = 47


def _lua_string(text: str) -> str:
    out = []
    for byte in text.encode():
        c = chr(byte)
        out.append("\\" + c if c in '"\\' else c if 32 <= byte < 127 else "\\%03d" % byte)
    return '"' + "".join(out) + '"'


def _hook(hook_id: int, name: str, signal: int, body: str, params: dict[str, str]) -> str:
    """One <LuaCallback> of Ardour's ui_scripts: a hook as the Script Manager stores it."""
    import base64

    bits = ["0"] * SIGNAL_BITS
    bits[SIGNAL_BITS - 1 - signal] = "1"
    state = (f's = {{}} s["n"] = {_lua_string(name)} s["s"] = {_lua_string(body)} s["f"] = {_lua_string(body)} '
             's["a"] = {} ' + "".join(f's["a"][{_lua_string(k)}] = {_lua_string(v)} ' for k, v in params.items()))
    return (f'<LuaCallback lua="Lua 5.3" id="{hook_id}" name="{name}" signals="{"".join(bits)}">'
            f'{base64.b64encode(state.encode()).decode()}</LuaCallback>')


def _ardour_config(folder: Path, hooks: list[str]) -> None:
    """A user config in which the GUI starts unattended: no first-run wizard, the Dummy backend started at
    once, OSC on (for quitting), plugins not scanned, and the hooks installed."""
    folder.mkdir(parents=True, exist_ok=True)  # ardour7-lua may have made it already
    (folder / ".a7").write_text("")
    (folder / "osc_url").write_text("")
    (folder / "config").write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<Ardour>
  <Config>
    <Option name="hide-dummy-backend" value="0"/>
    <Option name="try-autostart-engine" value="1"/>
    <Option name="discover-plugins-on-start" value="0"/>
    <Option name="periodic-safety-backups" value="0"/>
  </Config>
  <ControlProtocols><Protocol name="Open Sound Control (OSC)" active="1"/></ControlProtocols>
  <Extra><AudioMIDISetup><EngineStates>
    <State backend="None (Dummy)" driver="Normal Speed" device="Silence" input-device="" output-device=""
           sample-rate="48000" buffer-size="1024" n-periods="0" input-latency="0" output-latency="0" lm-input=""
           lm-output="" active="1" use-buffered-io="0" midi-option="" lru="{int(time.time())}"><MIDIDevices/></State>
  </EngineStates></AudioMIDISetup></Extra>
</Ardour>
""")
    (folder / "ui_scripts").write_text('<?xml version="1.0" encoding="UTF-8"?>\n<UIScripts><ActionHooks>\n'
                                       + "\n".join(hooks) + "\n</ActionHooks></UIScripts>\n")


def _listing(session: Path, env: dict[str, str]) -> list[dict[str, object]]:
    out = subprocess.run(["ardour7-lua", str(ARDOUR_TESTS / "list.lua"), str(session)], capture_output=True,
                         text=True, env=env, timeout=120).stdout
    tracks: list[dict[str, object]] = []
    for line in out.splitlines():
        if m := re.search(r'TRACK order=(\d+) name="([^"]*)"', line):
            tracks.append({"name": m.group(2), "regions": []})
        elif m := re.search(r'REGION name="[^"]*" position=(\d+) length=(\d+)', line):
            tracks[-1]["regions"].append({"position": int(m.group(1)), "length": int(m.group(2)), "sources": []})  # type: ignore[union-attr]
        elif m := re.search(r'SOURCE name="[^"]*" path="([^"]*)"', line):
            tracks[-1]["regions"][-1]["sources"].append(m.group(1))  # type: ignore[index]
    return tracks


def run_ardour(work: Path, take: Path, port: int, label: str, variations: int, position: int) -> dict[str, object]:
    """Make a session with the take at ``position`` (samples), run the sfx action and its hook in the real GUI,
    and list the saved session. Returns the listing, the driver's notes and the seconds from request to results."""
    for tool in ("ardour7-lua", "ardour", "xvfb-run"):
        assert shutil.which(tool), f"{tool} is required (.ci/run installs Debian's ardour, xvfb and xauth)"
    home = work / "home"
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_DATA_HOME": str(home / ".local" / "share"), "XDG_CACHE_HOME": str(home / ".cache"), "NO_AT_BRIDGE": "1",
           "SFX_COMMAND": SFX, "SFX_PORT": str(port)}
    (home / ".local" / "share").mkdir(parents=True)
    session = work / "sessions" / "Film"
    session.parent.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(["ardour7-lua", str(ARDOUR_TESTS / "make_session.lua"), str(session), str(take), str(position)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert "SESSION_OK" in made.stdout, made.stdout + made.stderr
    config = home / ".config" / "ardour7"
    notes, report = work / "notes.txt", work / "messages.txt"
    results_hook = ("local P = ...\n"
                    f"local fh = assert (io.open ({_lua_string(str(CLIENTS / 'ardour_sfx_results.lua'))}, 'r'))\n"
                    "local src = fh:read ('a'); fh:close ()\n"
                    "local env = setmetatable ({ ardour = function () end }, { __index = _ENV })\n"
                    "assert (load (src, '=ardour_sfx_results.lua', 't', env)) ()\n"
                    "return load (string.dump (env.factory, true), nil, 'b', _ENV) (P)\n")
    driver = (ARDOUR_TESTS / "drive.lua").read_text()
    _ardour_config(config, [
        _hook(4243, "sfx: bring results in", 47, results_hook, {"report": str(report)}),
        _hook(4244, "test driver", 46, driver, {"action": str(CLIENTS / "ardour_sfx.lua"), "result": str(notes),
                                                "report": str(report), "label": label, "variations": str(variations),
                                                "osc_url": str(config / "osc_url")}),
    ])
    gui = subprocess.run(["timeout", "-k", "5", "150", "xvfb-run", "-a", "-s", "-screen 0 1280x800x24 -nolisten tcp",
                          "ardour", "-n", "-a", str(session)], capture_output=True, text=True, env=env, timeout=200)
    text = notes.read_text() if notes.exists() else ""
    assert gui.returncode == 0, f"Ardour exited {gui.returncode}; notes: {text}; log: {gui.stdout[-2000:]}{gui.stderr[-2000:]}"
    seconds = float(m.group(1)) if (m := re.search(r"RESULTS \d+ after ([\d.]+) s", text)) else float("nan")
    return {"tracks": _listing(session, env), "notes": text, "messages": report.read_text() if report.exists() else "",
            "session": session, "seconds": seconds}


def ardour_round_trip(work: Path, take: Path, port: int, variations: int) -> float:
    """For bench/daw.py: seconds from the action's request to the results on the new track, in the GUI."""
    work.mkdir(parents=True)
    return float(run_ardour(work, take, port, "door creak", variations, 96000)["seconds"])  # type: ignore[arg-type]


def test_ardour_action_and_hook_in_the_real_gui(studio) -> None:  # type: ignore[no-untyped-def]
    """The take's region on "Take" at 2 s; the action sends only its part of the file; the hook brings the
    variations in on a new track right under "Take", at 2 s; the files lie in the session folder; a result
    imported "at its timestamp" lands at 2 s too."""
    work = Path(str(studio["tmp"])) / "Music" / "ardour"
    work.mkdir(parents=True)
    result = run_ardour(work, Path(str(studio["take"])), int(str(studio["port"])), "door creak", 3, 96000)
    notes = str(result["notes"])
    assert "ACTION_OK" in notes and "RESULTS 3" in notes and "TIMESTAMP_IMPORTED" in notes and "SAVED" in notes, notes
    assert result["messages"] == ""
    tracks = result["tracks"]
    names = [t["name"] for t in tracks]  # type: ignore[index]
    assert names == ["Dialogue", "Take", "sfx: door creak", "timestamp check", "Music"], names
    session = Path(str(result["session"]))
    by_name = {t["name"]: t for t in tracks}  # type: ignore[index]
    variations = by_name["sfx: door creak"]["regions"]
    assert len(variations) == 3 and all(r["position"] == 96000 for r in variations)
    assert all(Path(s).is_file() and session in Path(s).parents for r in variations for s in r["sources"])
    assert [r["position"] for r in by_name["timestamp check"]["regions"]] == [96000]
    written = sorted((session / "sfx").glob("*.wav"))
    assert len(written) == 3 and WavInfoReader(str(written[0])).bext.time_reference == 96000


# -- what a DAW can get wrong, answered by the server -------------------------------------------------------

def test_a_section_is_read_and_bad_daw_context_is_an_error_reply(studio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client: Client = studio["client"]  # type: ignore[assignment]
    take, root = str(studio["take"]), Path(str(studio["root"]))
    client.send("/sfx/generate", "sec", take, "door creak", "offset", 0.5, "length", 1.0, "variations", 1,
                "project", str(root / "My Film"))
    done = client.answer("sec", ("/sfx/done", "/sfx/error"))
    assert done[0] == "/sfx/done", done
    written = Path(done[1][1])
    assert written.parent == root / "My Film" / "sfx"
    assert abs(json.loads(written.with_suffix(".json").read_text())["imitation"]["seconds"] - 1.0) < 0.01
    cases = {
        "outside": (["offset", 2.5, "length", 1.0], "lies outside the imitation, which is 3.00 s long"),
        "past-end": (["offset", 9.0], "lies outside the imitation"),
        "elsewhere": (["project", str(tmp_path)], "outside the folders this server was started with"),
        "no-listener": (["reply_port", 9], "nothing listens on reply port 9"),
    }
    before = sorted((root / "My Film" / "sfx").iterdir())
    for rid, (options, needle) in cases.items():
        client.send("/sfx/generate", rid, take, "door creak", *options)
        reply = client.answer(rid, ("/sfx/error", "/sfx/done"))
        assert reply[0] == "/sfx/error" and needle in reply[1][1], (rid, reply)
    unreadable = Path(str(studio["media"])) / "broken.wav"
    unreadable.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    client.send("/sfx/generate", "broken", str(unreadable), "door creak")
    assert client.answer("broken", ("/sfx/error", "/sfx/done"))[0] == "/sfx/error"
    assert sorted((root / "My Film" / "sfx").iterdir()) == before  # nothing written by any of them
    client.send("/sfx/ping", "alive")
    client.answer("alive", ("/sfx/pong",))


def test_the_cli_reads_a_section_too(run_cli, studio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "cli"
    project.mkdir()
    code, out, err = run_cli("gen", str(studio["take"]), "door creak", "-p", str(project), "-n", "1",
                             "--offset", "1", "--length", "1.5", "--reverse")
    assert code == 0, err
    section = json.loads(Path(out.strip()).with_suffix(".json").read_text())["imitation"]["section"]
    assert section == {"offset_seconds": 1.0, "length_seconds": 1.5, "reverse": True}
    code, _, err = run_cli("gen", str(studio["take"]), "door creak", "-p", str(project), "--offset", "5")
    assert code == 10 and "lies outside the imitation" in err

"""``sfx serve``: the UDP socket, the event loop and the worker's supervision.

One thread, one ``select`` over the socket, the worker's pipe and its process
sentinel. Requests are parsed (``bridge.protocol``) and handled
(``bridge.handlers``); this module is the only one that touches sockets.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import select
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

from bridge import handlers
from bridge.guard import THROTTLE_SECONDS, UNAUTHORIZED, LogLimiter, OscNoise, TokenGuard, within
from bridge.handlers import BridgeState, Job
from bridge.protocol import MAX_DATAGRAM_BYTES, Reply, RequestError, error, parse, short_id, token_of
from bridge.worker import WorkerConfig, run
from sfxcli import __version__
from sfxcli.errors import BridgeError, SfxError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
SHUTDOWN_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class ServerConfig:
    project: Path
    roots: tuple[Path, ...] = ()  # folders a client may choose projects in; () = the project itself
    library_roots: tuple[Path, ...] = ()  # folders a client may name as its library
    host: str = "127.0.0.1"
    port: int = 9001
    engine: str = "embedded"
    model: str | None = None  # sao: hub id, folder or "debug"; None = the default model
    adapter: Path | None = None  # sao: a controls adapter
    max_queue: int = 32
    reply_host: str | None = None
    reply_port: int | None = None
    token: str | None = None
    allow_remote: bool = False


def encode(address: str, arguments: list[Any]) -> bytes:
    builder = OscMessageBuilder(address=address)
    for value in arguments:
        builder.add_arg(value)
    return builder.build().dgram


class _Worker:
    def __init__(self, config: WorkerConfig) -> None:
        context = multiprocessing.get_context("spawn")
        self.cancel_key = context.Value("q", -1)
        self.conn, child = context.Pipe()
        self.process = context.Process(target=run, args=(child, config, self.cancel_key),
                                       name="sfx-worker", daemon=True)
        self.process.start()
        child.close()
        self.ready = False


class Server:
    def __init__(self, config: ServerConfig, log: Callable[[str], None] | None = None) -> None:
        if config.host not in LOOPBACK and not config.allow_remote:
            raise BridgeError(f"refusing to listen on {config.host}: only loopback is allowed by default",
                              "pass --allow-remote and --token SECRET to accept requests from other machines")
        if config.host not in LOOPBACK and not config.token:
            raise BridgeError(f"listening on {config.host} needs a shared token", "pass --token SECRET")
        if not config.project.is_dir():
            raise BridgeError(f"project folder does not exist: {config.project}", "create it or pass another --project")
        roots = tuple(Path(os.path.realpath(r)) for r in (config.roots or (config.project,)))
        for root in roots:
            if not root.is_dir():
                raise BridgeError(f"project root does not exist: {root}", "create it or pass another --project-root")
        for root in config.library_roots:
            if not root.is_dir():
                raise BridgeError(f"library root does not exist: {root}", "create it or pass another --library-root")
        if not within(config.project, roots):
            raise BridgeError(f"the project folder {config.project} is not inside any --project-root",
                              "pass a --project inside one of them")
        self.config = config
        self.write_log = log or (lambda text: print(text, file=sys.stderr, flush=True))
        self.limited = LogLimiter(self.write_log)
        self.guard = TokenGuard(config.token)
        self.noise = OscNoise()
        logging.getLogger().addFilter(self.noise)
        self.noise_reported = time.monotonic()
        self.probed: dict[tuple[str, int], float] = {}
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:  # room for a burst from a DAW (or a flood) while the loop is busy
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        except OSError:
            pass
        try:
            self.sock.bind((config.host, config.port))
        except OSError as err:
            self.sock.close()
            raise BridgeError(f"cannot listen on {config.host}:{config.port}: {err.strerror}",
                              "is another sfx serve running? pick another --port") from None
        self.port = self.sock.getsockname()[1]
        self.state = BridgeState(project=Path(os.path.realpath(config.project)), engine=config.engine, roots=roots,
                                 library_roots=tuple(Path(os.path.realpath(r)) for r in config.library_roots),
                                 max_queue=config.max_queue, model=config.model, adapter=config.adapter)
        self.worker: _Worker | None = None
        self.stopping = False
        self.announced = False
        self.restarts: list[float] = []

    # -- sending -------------------------------------------------------------
    def _destination(self, sender: tuple[str, int]) -> tuple[str, int]:
        return (self.config.reply_host or sender[0], self.config.reply_port or sender[1])

    def log(self, text: str) -> None:
        self.write_log(text)

    def send(self, sender: tuple[str, int], replies: list[Reply]) -> None:
        for address, arguments in replies:
            try:
                # never wait for a client that does not read its replies: a reply that cannot go now is dropped
                self.sock.sendto(encode(address, arguments), _DONTWAIT, self._destination(sender))
            except (OSError, OverflowError, ValueError) as err:  # an unreachable client must not stop the server
                self.limited("reply", f"could not reply to {sender[0]}: {getattr(err, 'strerror', None) or err}")

    # -- requests ------------------------------------------------------------
    @staticmethod
    def _who(sender: tuple[str, int]) -> str:
        """Whom bad tokens are counted against: a remote host, or on loopback one socket (so one local program
        guessing tokens cannot lock every other local client out)."""
        return f"{sender[0]}:{sender[1]}" if sender[0] in LOOPBACK or sender[0].startswith("127.") else sender[0]

    def refuse(self, sender: tuple[str, int], rid: str) -> None:
        """A message without the right token: one short reply, and none at all once the address is throttled."""
        if self.guard.failed(self._who(sender)):
            self.limited("throttle", f"ignoring {self._who(sender)} for {THROTTLE_SECONDS:g} s after repeated bad tokens")
            return
        self.send(sender, [error(rid, UNAUTHORIZED)])

    def on_datagram(self, data: bytes, sender: tuple[str, int]) -> None:
        if self.guard.blocked(self._who(sender)):
            return
        if len(data) > MAX_DATAGRAM_BYTES:
            if self.guard.required:
                self.refuse(sender, "")
            else:
                self.send(sender, [error("", f"message is {len(data)} bytes; the limit is {MAX_DATAGRAM_BYTES}")])
            return
        try:
            messages = [timed.message for timed in OscPacket(data).messages]
        except (ParseError, ValueError, TypeError, IndexError, OverflowError, UnicodeError, struct.error):
            if self.guard.required:
                self.refuse(sender, "")
            else:
                self.send(sender, [error("", "malformed OSC packet")])
            return
        for message in messages:
            params = list(message.params)
            if not self.guard.accepts(token_of(message.address, params)):
                self.refuse(sender, short_id(params))
                continue
            destination, replies = self.answer(message.address, params, sender)
            self.send(destination, replies)
        self.dispatch()

    def answer(self, address: str, params: list[Any], sender: tuple[str, int]) -> tuple[tuple[str, int], list[Reply]]:
        """Where to reply and what, for one authorised message; no input, however odd, gets past this as an
        exception. A request's ``reply_port`` sends its replies to that port of the sender's host (never to
        another host: replies cannot be aimed at a third party), once something is seen to listen there."""
        destination, rid = sender, ""
        try:
            request = parse(address, params)
            rid = request.request_id
            if request.reply_port is not None:
                destination = (sender[0], request.reply_port)
                if not self.reachable(destination):
                    raise RequestError(rid, f"nothing listens on reply port {request.reply_port} of {sender[0]}; "
                                            "open it (for example [udpreceive]) before sending the request")
            return destination, handlers.handle(self.state, request, destination)
        except RequestError as err:
            return sender, [error(err.request_id, err.message)]
        except SfxError as err:
            return sender, [error(rid, err.message)]
        except OSError as err:
            return sender, [error(rid, f"cannot use a path in this request: {err.strerror or err}")]
        except Exception as err:  # noqa: BLE001 - a bug must reach the client as an error reply, never stop the server
            self.limited("internal", f"internal error answering {address}: {type(err).__name__}: {err}")
            return sender, [error(rid, f"internal error: {type(err).__name__}")]

    def reachable(self, destination: tuple[str, int]) -> bool:
        """Whether a UDP port answers at all: a connected socket learns of an ICMP 'port unreachable' on its
        next call. Remembered for a minute, so a client asking often costs one probe."""
        now = time.monotonic()
        if now - self.probed.get(destination, -1e9) < 60.0:
            return True
        family = socket.AF_INET6 if ":" in destination[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect(destination)
                probe.send(encode("/sfx/probe", []))
                probe.settimeout(0.02)
                probe.recv(1)
            except (socket.timeout, BlockingIOError):
                pass
            except OSError:
                return False
        self.probed[destination] = now
        return True

    # -- the worker ----------------------------------------------------------
    def start_worker(self) -> None:
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < 30] + [now]
        if len(self.restarts) > 5:
            raise BridgeError("the worker keeps crashing (6 starts in 30 s); stopping",
                              "run `sfx doctor`, then `sfx serve --debug`")
        self.worker = _Worker(WorkerConfig(self.state.engine, self.config.model, self.config.adapter, self.state.roots))
        self.state.worker_state = "starting"
        self.state.worker_pid = self.worker.process.pid or 0

    def dispatch(self) -> None:
        worker = self.worker
        if worker is None or not worker.ready or self.state.running is not None or not self.state.queue:
            return
        job = self.state.queue.popleft()
        self.state.running = job
        self.state.cancel_requested = False
        worker.cancel_key.value = -1
        self.state.worker_state = "busy"
        try:
            worker.conn.send(("job", job.key, job.request))
        except (OSError, BrokenPipeError):
            pass  # the sentinel reports the dead worker on the next turn

    def on_worker_message(self) -> bool:
        """Handle one message from the worker; False once its pipe is closed."""
        worker = self.worker
        assert worker is not None
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            return False
        self.handle_worker_message(worker, message)
        return True

    def handle_worker_message(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "ready":
            worker.ready = True
            _, engine, device, pid = message
            self.state.device, self.state.worker_state, self.state.worker_pid = device, "idle", pid
            if not self.announced:
                self.announced = True
                self.log(f"sfx serve {__version__}: listening on udp {self.config.host}:{self.port}, engine {engine} "
                         f"on {device}, project {self.state.project}")
                if self.config.reply_port:
                    self.send((self.config.reply_host or "127.0.0.1", self.config.reply_port),
                              [("/sfx/ready", [__version__, self.port, engine])])
            self.dispatch()
            return
        if kind == "fatal":
            raise BridgeError(f"the worker cannot start: {message[1]}")
        job = self.state.running
        if job is None or message[1] != job.key:
            return  # a stale message about a job already answered
        if kind == "progress":
            self.send(job.reply_to, [("/sfx/progress", [job.request_id, message[2], message[3]])])
            return
        if kind == "done":
            self.send(job.reply_to, [("/sfx/done", [job.request_id, *message[2]])])
        elif kind == "cancelled":
            self.send(job.reply_to, [("/sfx/cancelled", [job.request_id])])
        else:
            self.send(job.reply_to, [error(job.request_id, message[2])])
        self.state.running = None
        self.state.worker_state = "idle"
        self.dispatch()

    def on_worker_exit(self) -> None:
        worker = self.worker
        assert worker is not None
        code = worker.process.exitcode
        pid = worker.process.pid
        worker.conn.close()
        job = self.state.running
        self.state.running = None
        if job is not None:
            remove_partials(job, pid)
            self.send(job.reply_to, [error(job.request_id, f"the worker stopped (exit code {code}) during this request; "
                                           "files that were complete are kept; send it again")])
        if self.stopping:
            self.worker = None
            return
        self.log(f"worker {pid} exited with code {code}; starting a fresh one")
        self.start_worker()

    def cancel_running(self) -> None:
        if self.state.cancel_requested and self.state.running is not None and self.worker is not None:
            self.worker.cancel_key.value = self.state.running.key

    # -- the loop ------------------------------------------------------------
    def serve_forever(self) -> None:
        def stop(signum: int, frame: Any) -> None:
            self.stopping = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start_worker()
            while not self.stopping:
                self.turn(0.2)
                self.report_noise()
        finally:
            self.shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def turn(self, timeout: float) -> None:
        worker = self.worker
        watched: list[Any] = [self.sock]
        if worker is not None:
            watched += [worker.conn, worker.process.sentinel]
        ready, _, _ = select.select(watched, [], [], timeout)
        if self.sock in ready:
            try:
                data, sender = self.sock.recvfrom(65536)
            except OSError:
                data = b""
            if data:
                self.on_datagram(data, sender[:2])
        if worker is not None and worker.conn in ready:
            self.on_worker_message()
        if worker is not None and worker.process.sentinel in ready and not worker.process.is_alive():
            while worker.conn.poll() and self.on_worker_message():  # answers sent just before it exited count
                pass
            self.on_worker_exit()
        self.cancel_running()

    def report_noise(self, every: float = 60.0) -> None:
        """python-osc's warnings about junk arguments, as one count per interval."""
        now = time.monotonic()
        if self.noise.count and now - self.noise_reported >= every:
            self.log(f"ignored {self.noise.count} malformed OSC arguments in the last {now - self.noise_reported:.0f} s")
            self.noise.count = 0
            self.noise_reported = now

    def shutdown(self) -> None:
        """Answer everything in flight, let the running job stop, then stop the worker."""
        self.stopping = True
        for job in list(self.state.queue):
            self.send(job.reply_to, [error(job.request_id, "the server is shutting down; request not started")])
        self.state.queue.clear()
        worker = self.worker
        if worker is not None:
            if self.state.running is not None:
                self.state.cancel_requested = True
                worker.cancel_key.value = self.state.running.key
                deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
                while self.state.running is not None and worker.process.is_alive() and time.monotonic() < deadline:
                    if worker.conn.poll(0.1) and not self.on_worker_message():
                        break
            if self.state.running is not None:
                job = self.state.running
                worker.process.terminate()
                worker.process.join(2)
                remove_partials(job, worker.process.pid)
                self.send(job.reply_to, [error(job.request_id, "the server shut down before this request finished")])
                self.state.running = None
            try:
                worker.conn.send(("stop",))
            except OSError:
                pass
            worker.process.join(2)
            if worker.process.is_alive():
                worker.process.kill()
            self.worker = None
        self.sock.close()
        logging.getLogger().removeFilter(self.noise)
        self.log("sfx serve: stopped")


def remove_partials(job: Job, pid: int | None) -> None:
    """Delete the temp files a dead worker left in the job's output folder (never following a link)."""
    folder = Path(job.request.project).joinpath(*job.request.subfolder.split("/"))
    if pid is None or folder.is_symlink() or not folder.is_dir():
        return
    for leftover in folder.glob(f".*.{pid}.*.partial.*"):
        leftover.unlink(missing_ok=True)

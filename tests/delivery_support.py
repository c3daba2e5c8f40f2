"""Test helpers for delivery: the real collector on loopback, and a scripted proxy in front of it.

The proxy answers each request as its script says (500, 503, 429 with
Retry-After, a hang past the client's timeout, or forwarding to the collector),
and can call a hook before or after forwarding (to SIGKILL an agent mid-flush).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
import uvicorn
from sqlalchemy import func, select

from agent.state import AgentState, Credential
from collector.app import create_app
from collector.auth.credentials import create_enroll_code
from collector.db.engine import make_engine, session_factory
from collector.db.models import AgentRow, ReportRow
from collector.schools.records import upsert_school
from config.collector_settings import CollectorSettings
from config.wire import INCARNATION_HEADER, SchoolPublic, utcnow

UAI = "0350122T"


class Collector:
    """The real collector (create_app + uvicorn) in a thread, on a temporary SQLite file."""

    def __init__(self, data_dir: Path, db_url: str | None = None, profile_path: Path | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.db_url = db_url or f"sqlite:///{data_dir / 'socle.db'}"
        self.engine = make_engine(self.db_url)
        self.app = create_app(CollectorSettings(data_dir=data_dir, profile_path=profile_path),
                              engine=self.engine)
        self.sessions = session_factory(self.engine)
        with self.sessions() as s:
            upsert_school(s, SchoolPublic(uai=UAI, name="École de Baulon", commune="Baulon"), utcnow())
            s.commit()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def start(self) -> Collector:
        """Serve, and wait until it answers."""
        self.thread.start()
        for _ in range(200):
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.02)
        raise RuntimeError("collector did not start")

    def stop(self) -> None:
        """Stop serving."""
        self.server.should_exit = True
        self.thread.join(5)
        self.sock.close()

    def enroll(self, state_dir: Path, room: str = "CM1", url: str | None = None) -> Credential:
        """Enrol an agent state directory through the API (a code made directly in the store)."""
        from agent.client import CollectorClient
        from config.wire import EnrollRequest

        with self.sessions() as s:
            code = create_enroll_code(s, UAI, utcnow(), timedelta(hours=1))
            s.commit()
        state = AgentState(state_dir)
        resp = CollectorClient(self.url).enroll(EnrollRequest(code=code, room=room, device=state.identity(),
                                                              agent_version="test"))
        cred = Credential(collector_url=url or self.url, agent_id=resp.agent_id, token=resp.token,
                          school_uai=resp.school_uai, school_name=resp.school_name, room=resp.room)
        state.save_credential(cred)
        return cred

    def report_count(self) -> int:
        """Reports stored, all agents together."""
        with self.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(ReportRow)) or 0)

    def report_ids(self) -> list[str]:
        """Ids of the stored reports."""
        with self.sessions() as s:
            return list(s.scalars(select(ReportRow.report_id)))

    def reports_by_agent(self) -> dict[str, int]:
        """How many reports each agent sent."""
        with self.sessions() as s:
            rows = s.execute(select(ReportRow.agent_id, func.count()).group_by(ReportRow.agent_id))
            return {a: int(n) for a, n in rows}

    def agents(self) -> list[AgentRow]:
        """Every agent row."""
        with self.sessions() as s:
            return list(s.scalars(select(AgentRow).order_by(AgentRow.enrolled_at)))


Hook = Callable[[int], bool]  # True: drop the request there (no forward, no answer)


@dataclass
class Proxy:
    """A loopback HTTP server that follows a script, then forwards to ``target``.

    Script items, one per request: ``"forward"``, ``"500"``, ``"503"``, ``"429:<s>"``
    (Retry-After), ``"hang:<s>"`` (forward, then hold the answer ``s`` seconds).
    When the script is used up every request is forwarded.
    """

    target: str
    script: list[str] = field(default_factory=list)
    before_forward: Hook | None = None  # called with the request number, before forwarding
    after_forward: Hook | None = None  # called after the collector answered, before answering
    seen: list[str] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:
                proxy._handle(self)

            def do_GET(self) -> None:
                proxy._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        with self.lock:
            n = len(self.seen)
            action = self.script[n] if n < len(self.script) else "forward"
            self.seen.append(action)
        if action in ("500", "503"):
            self._answer(h, int(action), b'{"detail":"scripted failure"}', {})
            return
        if action.startswith("429:"):
            self._answer(h, 429, b'{"detail":"slow down"}', {"Retry-After": action[4:]})
            return
        if self.before_forward and self.before_forward(n):
            return
        headers = {k: v for k, v in h.headers.items() if k.lower() in
                   ("authorization", "content-type", INCARNATION_HEADER.lower())}
        resp = requests.request(h.command, self.target + h.path, data=body, headers=headers, timeout=10)
        if self.after_forward and self.after_forward(n):
            return
        if action.startswith("hang:"):
            self.stop_event.wait(float(action[5:]))  # the agent times out first
        with contextlib.suppress(OSError):
            self._answer(h, resp.status_code, resp.content, {})

    @staticmethod
    def _answer(h: BaseHTTPRequestHandler, status: int, body: bytes, extra: dict[str, str]) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        for k, v in extra.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def start(self) -> Proxy:
        """Serve in a thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release any held answer."""
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url() -> str:
    """A loopback URL nobody listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@contextlib.contextmanager
def running_collector(data_dir: Path, db_url: str | None = None,
                      profile_path: Path | None = None) -> Iterator[Collector]:
    """A started collector (on ``db_url``, or SQLite in ``data_dir``; judging with ``profile_path``,
    or the bundled profile), stopped at the end."""
    c = Collector(data_dir, db_url, profile_path).start()
    try:
        yield c
    finally:
        c.stop()

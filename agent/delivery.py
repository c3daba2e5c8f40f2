"""The agent's delivery path: keep every report in the spool, then offer the spool to the collector.

Also where a machine told it holds a cloned identity (409) gets one of its own:
it draws a new instance ID, asks the collector to re-enrol it (same school and
room, no new code) and sends its spool again with the new credential.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from pathlib import Path

import requests

from agent import __version__
from agent.client import CollectorClient, CollectorError
from agent.identity import current_incarnation
from agent.sender import FlushResult, Sender
from agent.spool import Spool
from agent.state import AgentState, Credential
from config.agent_settings import AgentSettings
from config.wire import ReenrollRequest, Report

log = logging.getLogger("socle.agent.delivery")


def spool_path(state: AgentState, settings: AgentSettings) -> Path:
    """Where the spool lives: the settings' path, else the state directory."""
    return settings.spool.path or state.root / "spool.sqlite3"


def open_spool(state: AgentState, settings: AgentSettings, clock: Callable[[], float] = time.time) -> Spool:
    """The spool, bounded as the settings say."""
    return Spool(spool_path(state, settings), max_bytes=int(settings.spool.max_mb * 1_000_000),
                 max_age_s=settings.spool.max_age_days * 86400.0, clock=clock)


def keep(spool: Spool, report: Report) -> Report:
    """Write a report to the spool (before any send), carrying the spool's health; returns what was kept."""
    kept = report.model_copy(update={"spool": spool.stats().health()})
    spool.put(str(kept.report_id), kept.model_dump_json())
    return kept


def collector_url(settings: AgentSettings, cred: Credential | None) -> str | None:
    """The collector this agent talks to: the settings' URL, else the one it enrolled with."""
    if settings.collector.url is not None:
        return str(settings.collector.url)
    return cred.collector_url if cred else None


def tls_verify(settings: AgentSettings) -> bool | str:
    """What requests checks the collector's certificate against: the settings' CA file, else the system's."""
    return str(settings.collector.ca_file) if settings.collector.ca_file else True


def make_client(settings: AgentSettings, cred: Credential, incarnation: str | None = None,
                session: requests.Session | None = None) -> CollectorClient:
    """A client for this agent's collector, with its credential and (when given) its incarnation."""
    url = collector_url(settings, cred)
    assert url is not None  # an enrolment always names its collector
    return CollectorClient(url, session=session, timeout_s=settings.collector.timeout_s, token=cred.token,
                           verify=tls_verify(settings), incarnation=incarnation)


def reenroll(state: AgentState, client: CollectorClient, fs_root: Path = Path("/"),
             incarnation: str | None = None) -> Credential:
    """Obtain an identity of this machine's own after the collector found it is a clone."""
    old = state.credential()
    assert old is not None
    new_id = state.new_instance_id()
    identity = state.identity()
    assert identity.instance_id == new_id
    resp = client.reenroll(ReenrollRequest(device=identity, agent_version=__version__))
    cred = Credential(collector_url=old.collector_url, agent_id=resp.agent_id, token=resp.token,
                      school_uai=resp.school_uai, school_name=resp.school_name, room=resp.room)
    state.save_credential(cred)
    log.warning("this machine held a cloned identity; it is now agent %s", resp.agent_id)
    return cred


def rotate_if_due(state: AgentState, settings: AgentSettings, now: float, incarnation: str) -> bool:
    """Trade the credential for a new one when it is older than the setting; True when rotated.

    If the answer is lost, or the agent dies before keeping the new credential, the
    old one still works (the collector accepts it until the new one is first used)
    and the next attempt rotates again.
    """
    days = settings.schedule.rotate_credential_days
    cred = state.credential()
    if days is None or cred is None:
        return False
    if now - state.credential_path.stat().st_mtime < days * 86400:
        return False
    resp = make_client(settings, cred, incarnation).rotate()
    state.save_credential(cred.model_copy(update={"token": resp.token}))
    log.info("credential rotated")
    return True


def deliver(state: AgentState, settings: AgentSettings, spool: Spool, *, attempts: int | None = None,
            max_wait_s: float = 60.0, clock: Callable[[], float] = time.time,
            sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None,
            incarnation: Callable[[AgentState], str] | None = None,
            session: requests.Session | None = None) -> FlushResult:
    """Send what the spool holds; a clone re-enrols once and sends again."""
    cred = state.credential()
    if cred is None:
        result = FlushResult(error="not enrolled: run 'socle-agent enroll'", remaining=spool.stats().depth)
        return result
    who = incarnation or (lambda s: current_incarnation(s.instance_id(), s.root))
    client = make_client(settings, cred, who(state), session)
    sender = Sender(spool, client, settings.spool, clock=clock, sleep=sleep, rng=rng)
    result = sender.flush(attempts, max_wait_s)
    if not result.cloned:
        return result
    # The incarnation of the request that was refused names this machine to the collector.
    try:
        cred = reenroll(state, client)
    except CollectorError as exc:
        spool.set_error(f"re-enrolment after a cloned identity failed: {exc}")
        result.error = str(exc)
        return result
    client = make_client(settings, cred, who(state), session)
    sender = Sender(spool, client, settings.spool, clock=clock, sleep=sleep, rng=rng)
    again = sender.flush(attempts, max_wait_s)
    again.stored += result.stored
    again.duplicate += result.duplicate
    again.refused = result.refused + again.refused
    return again

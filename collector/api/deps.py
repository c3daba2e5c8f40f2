"""Typed request dependencies: the app's state, the database session, the clock and who is calling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from collector.auth.credentials import api_token
from collector.auth.identity import admit_one
from collector.db.models import AgentRow, ApiToken
from collector.errors import StoreError
from collector.ingest.statements import on
from collector.ingest.writer import IngestWriter
from collector.judge.verdicts import VerdictCache
from config.collector_settings import CollectorSettings
from config.profile import Profile
from config.wire import INCARNATION_HEADER, INCARNATION_MAX_CHARS

BEARER = {"WWW-Authenticate": "Bearer"}


@dataclass
class AppState:
    """Everything the app factory builds once; no other state lives across requests."""

    settings: CollectorSettings
    sessions: sessionmaker[Session]
    profile: Profile
    clock: Callable[[], datetime]
    writer: IngestWriter | None = None  # the ingest endpoints' group commit (collector/ingest/writer.py)
    verdicts: VerdictCache = field(default_factory=VerdictCache)  # every school's, for the lists


def app_state(request: Request) -> AppState:
    """The state the app factory built."""
    state: AppState = request.app.state.socle
    return state


State = Annotated[AppState, Depends(app_state)]


def db_session(state: State) -> Iterator[Session]:
    """A session committed when the request succeeds, rolled back otherwise."""
    with state.sessions() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# scope="function": commit before the response is sent, so a 2xx means the data is stored.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def now(state: State) -> datetime:
    """The app's clock (a seam: tests give a fixed one)."""
    return state.clock()


Now = Annotated[datetime, Depends(now)]


def bearer(request: Request) -> str:
    """The bearer token of the request, or a 401 that says what is missing."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "missing credential: send 'Authorization: Bearer <token>'", headers=BEARER)
    return token.strip()


Token = Annotated[str, Depends(bearer)]
Incarnation = Annotated[str | None, Header(alias=INCARNATION_HEADER, max_length=INCARNATION_MAX_CHARS)]


def refusal(exc: StoreError) -> HTTPException:
    """An identity refusal as the HTTP error the agent reads (a 401 says how to authenticate)."""
    return HTTPException(exc.status, exc.message, headers=BEARER if exc.status == 401 else None)


def _agent(session: Session, token: str, at: datetime, incarnation: str | None,
           refuse_clones: bool) -> AgentRow:
    sql, cur = on(session.connection())
    try:
        caller = admit_one(sql, cur, token, incarnation, at, refuse_clones)
    except StoreError as exc:
        if exc.status == 409:
            session.commit()  # the clone's mark stays: it is what lets the clone re-enrol
        raise refusal(exc) from None
    finally:
        cur.close()
    agent = session.get(AgentRow, caller.agent_id)
    assert agent is not None  # just read in the same transaction
    return agent


def current_agent(session: DbSession, token: Token, at: Now, incarnation: Incarnation = None) -> AgentRow:
    """The enrolled agent behind the credential, or 401; 409 for a machine holding a cloned identity."""
    return _agent(session, token, at, incarnation, refuse_clones=True)


def agent_even_if_clone(session: DbSession, token: Token, at: Now) -> AgentRow:
    """The enrolled agent behind the credential, or 401, whichever machine calls (for re-enrolment)."""
    return _agent(session, token, at, None, refuse_clones=False)


def current_reader(session: DbSession, token: Token, at: Now) -> ApiToken:
    """A live API token (reader, technician or admin), or 401."""
    row = api_token(session, token, at)
    if row is None:
        raise HTTPException(401, "unknown, expired or revoked API token", headers=BEARER)
    return row


CurrentAgent = Annotated[AgentRow, Depends(current_agent)]
CloneOrAgent = Annotated[AgentRow, Depends(agent_even_if_clone)]
CurrentReader = Annotated[ApiToken, Depends(current_reader)]

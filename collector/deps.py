"""Typed request dependencies: the database session, the clock and who is calling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from collector.identity import authenticate_agent, check_incarnation
from collector.models import AgentRow, ApiToken
from collector.store import api_token
from config.collector_settings import CollectorSettings
from config.profile import Profile

if TYPE_CHECKING:
    from collector.ingest_writer import IngestWriter


@dataclass
class AppState:
    """Everything the app factory builds once; no other state lives across requests."""

    settings: CollectorSettings
    sessions: sessionmaker[Session]
    profile: Profile
    clock: Callable[[], datetime]
    writer: IngestWriter | None = None  # the ingest endpoints' group commit (collector/ingest_writer.py)


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
        raise HTTPException(401, "missing credential: send 'Authorization: Bearer <token>'",
                            headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


Token = Annotated[str, Depends(bearer)]


def current_agent(session: DbSession, token: Token, at: Now,
                  incarnation: Annotated[str | None, Header(alias="X-Socle-Incarnation",
                                                            max_length=64)] = None) -> AgentRow:
    """The enrolled agent behind the credential, or 401; 409 for a machine holding a cloned identity."""
    agent = authenticate_agent(session, token, at)
    if agent is None:
        raise HTTPException(401, "unknown or revoked agent credential: enrol the agent again",
                            headers={"WWW-Authenticate": "Bearer"})
    if incarnation:
        check_incarnation(session, agent, incarnation, at)
    return agent


def current_reader(session: DbSession, token: Token, at: Now) -> ApiToken:
    """A live API token (reader, technician or admin), or 401."""
    row = api_token(session, token, at)
    if row is None:
        raise HTTPException(401, "unknown, expired or revoked API token",
                            headers={"WWW-Authenticate": "Bearer"})
    return row


CurrentAgent = Annotated[AgentRow, Depends(current_agent)]
CurrentReader = Annotated[ApiToken, Depends(current_reader)]

"""Enrolling a machine that is enrolled to another school: the collector refuses (409) until it is confirmed.

The collector knows the machine by its instance ID and lineage, so it is the one
that sees the move; the code is not spent by the refusal. Here the technician
confirms: at a terminal a yes/no question, in a script ``--yes``; a script without
``--yes`` is refused with what the collector said and how to go on.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from agent.client import CollectorClient, CollectorError
from config.wire import EnrollRequest, EnrollResponse


class MoveRefused(Exception):
    """The machine stays at its school: the move was not confirmed."""


def ask_on_terminal(question: str) -> bool | None:
    """The technician's answer to a yes/no question, or None when no one is at a terminal to answer."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return None
    return answer.strip().lower() in ("y", "yes", "o", "oui")


def enroll_confirming(client: CollectorClient, req: EnrollRequest, yes: bool,
                      ask: Callable[[str], bool | None] = ask_on_terminal) -> EnrollResponse:
    """Enrol; a machine of another school is moved only with ``yes`` or the technician's say-so."""
    if yes:
        return client.enroll(req.model_copy(update={"move": True}))
    try:
        return client.enroll(req)
    except CollectorError as exc:
        if exc.status != 409:
            raise
        said = exc.detail
    print(f"socle-agent: {said}", file=sys.stderr)
    answer = ask("Move this machine to the other school? Its credential at the first school is revoked.")
    if answer is None:
        raise MoveRefused("not moved: no one at a terminal to confirm; run again with --yes to move it")
    if not answer:
        raise MoveRefused("not moved: the machine stays enrolled to its school")
    return client.enroll(req.model_copy(update={"move": True}))

"""school directory: commune codes, circonscriptions, classes; commune scopes by département

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01 09:00:00

The schools table gains what the directory import keeps (INSEE commune code,
circonscription and its code, latitude/longitude, mailbox, priority education,
public or private, opening state) and the number of classes with where it came
from.

A scope ``commune:<name>`` covered every school of that name, in any
département (Saint-Denis is in 93 and in 974). Scopes now name a commune by
its INSEE code or by name and département. Each existing ``commune:<name>``
scope becomes ``commune:<name> (<département>)`` when this collector's schools
of that name are all in one département: the token keeps covering exactly
what it covered. A name found in several départements, or in none, is left as
it was: the access rules refuse it (the token grants nothing, and every
refusal says why), and this migration logs each such token. The schools and
every other scope are kept as they are.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None

log = logging.getLogger("socle.collector.migrations")

SCOPE_LENGTH = 100  # api_tokens.scope
_CODE_OR_ALIAS = re.compile(r"^(?:[0-9]{5}|2[AB][0-9]{3}|.+\(\s*[0-9A-Za-z]{2,3}\s*\))$")
_COLUMNS = (
    ("commune_code", sa.String(length=5)), ("circonscription", sa.String(length=100)),
    ("circonscription_code", sa.String(length=8)), ("latitude", sa.Float()), ("longitude", sa.Float()),
    ("email", sa.String(length=254)), ("priority_education", sa.String(length=4)),
    ("sector", sa.String(length=8)), ("state", sa.String(length=8)), ("classes", sa.Integer()),
    ("classes_origin", sa.String(length=8)), ("classes_file", sa.String(length=200)),
    ("classes_year", sa.Integer()), ("classes_at", sa.DateTime(timezone=True)),
)
_INDEXED = ("commune_code", "circonscription_code")


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _departement(code: str | None, uai: str) -> str:
    """A school's département as the access rules read it then: the recorded code, else its UAI's."""
    if code and code.strip():
        code = code.strip().upper()
        return code.zfill(3) if len(code) < 3 else code
    return {"620": "02A", "720": "02B"}.get(uai[:3], uai[:3])


def _migrate_commune_scopes(bind: sa.Connection) -> None:
    tokens = bind.execute(sa.text("SELECT token_id, scope FROM api_tokens "
                                  "WHERE scope LIKE 'commune:%'")).all()
    if not tokens:
        return
    departements: dict[str, set[str]] = defaultdict(set)
    for uai, commune, dep in bind.execute(sa.text("SELECT uai, commune, departement FROM schools")):
        departements[_fold(commune)].add(_departement(dep, uai))
    for token_id, scope in tokens:
        name = scope.partition(":")[2].strip()
        if _CODE_OR_ALIAS.match(name):
            continue
        found = sorted(departements.get(_fold(name), ()))
        new = f"commune:{name} ({found[0]})" if len(found) == 1 else None
        if new is not None and len(new) <= SCOPE_LENGTH:
            bind.execute(sa.text("UPDATE api_tokens SET scope = :s WHERE token_id = :t"),
                         {"s": new, "t": token_id})
            log.info("API token %s: scope %s is now %s", token_id, scope, new)
            continue
        why = (f"schools named {name} are in several départements ({', '.join(found)})" if len(found) > 1
               else f"no school of this collector is in a commune named {name}" if not found
               else "the scope with its département would be too long")
        log.warning("API token %s: scope %s left as it was and refused from now on: %s; make a new token "
                    "with commune:<INSEE code> or commune:<name> (<département>) and revoke this one",
                    token_id, scope, why)


def upgrade() -> None:
    """Apply this revision."""
    for name, type_ in _COLUMNS:
        op.add_column('schools', sa.Column(name, type_, nullable=True))
    for name in _INDEXED:
        op.create_index(op.f(f'ix_schools_{name}'), 'schools', [name], unique=False)
    _migrate_commune_scopes(op.get_bind())


def downgrade() -> None:
    """Revert this revision: ``commune:<name> (<département>)`` goes back to ``commune:<name>`` (the older
    rule); a scope by INSEE code or by circonscription is left as it is, which the older rules refuse."""
    bind = op.get_bind()
    for token_id, scope in bind.execute(sa.text("SELECT token_id, scope FROM api_tokens "
                                                "WHERE scope LIKE 'commune:%'")).all():
        alias = re.match(r"^commune:(.+?)\s*\(\s*[0-9A-Za-z]{2,3}\s*\)$", scope)
        if alias is not None:
            bind.execute(sa.text("UPDATE api_tokens SET scope = :s WHERE token_id = :t"),
                         {"s": f"commune:{alias.group(1)}", "t": token_id})
    for name in _INDEXED:
        op.drop_index(op.f(f'ix_schools_{name}'), table_name='schools')
    for name, _type in reversed(_COLUMNS):
        op.drop_column('schools', name)

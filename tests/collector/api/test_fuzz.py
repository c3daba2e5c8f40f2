"""Fuzzing the collector's HTTP API: schemathesis on the served OpenAPI, a bounded number of cases.

Every operation gets generated bodies, paths and queries, valid and invalid
(both generation modes), sent with a real credential so they reach the
handlers. The one check: never a server error. Hand-made hostile bodies are in
test_hardening.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from collector.db.engine import create_schema, make_engine
from config.collector_settings import CollectorSettings
from tests.collector_db import Harness, auth

MAX_EXAMPLES = 40  # per operation and mode: the whole test stays well under a minute
TOKENS: dict[str, str] = {}


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """One collector on SQLite, rate limit off, with an admin token and an enrolled agent."""
    path: Path = tmp_path_factory.mktemp("fuzz") / "socle.db"
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    harness = Harness(engine, CollectorSettings(rate_limit_per_minute=0, auth_failures_per_minute=0))
    TOKENS["admin"] = harness.token("admin")
    TOKENS["agent"] = harness.enroll()
    yield harness.app
    engine.dispose()


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app: FastAPI) -> schemathesis.BaseSchema:
    """The collector's own OpenAPI document, served by the app."""
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


def _fuzz_operation(operation: schemathesis.APIOperation, token: str, mode: GenerationMode,
                    failures: list[str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers={**(case.headers or {}), **auth(token)})
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.path} {case.path_parameters} -> "
                            f"{response.status_code} {response.text[:200]}")

    # Unsatisfiable: nothing to make invalid (no parameters nor body, in negative mode).
    with contextlib.suppress(Unsatisfiable):
        run()


def _fuzz(schema: schemathesis.BaseSchema, mode: GenerationMode) -> list[str]:
    """Run every operation's generated cases; the server errors found, as readable lines."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        agent_side = any(word in operation.path for word in ("report", "rotate", "agent"))
        _fuzz_operation(operation, TOKENS["agent"] if agent_side else TOKENS["admin"], mode, failures)
    return failures


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_input_makes_a_server_error(fuzz_schema: schemathesis.BaseSchema, mode: GenerationMode) -> None:
    operations = [r.ok().label for r in fuzz_schema.get_all_operations()]
    assert "POST /api/v1/reports" in operations
    assert _fuzz(fuzz_schema, mode) == []

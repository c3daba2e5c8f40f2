"""Sign-in for the dashboard: the same API tokens, roles and scopes as the API, in a server-side session.

The sign-in page takes an API token and starts a session (collector/auth/sessions.py):
the browser keeps only the session's random id, in an HttpOnly, SameSite=Strict
cookie (Secure over HTTPS and on loopback). Each request finds the session by the
id's hash and the token it stands for, so signing out, the session's lifetime or
idle time, or a revoked or expired token sign the browser out at once. Forms that
change something carry the session's form token, checked here
(:data:`FormUser`). Tools may send the usual ``Authorization: Bearer`` header
instead of the cookie (no form token then: nothing ambient to forge).
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from collector.api.deps import DbSession, Now, State
from collector.auth.access import Action, require
from collector.auth.credentials import api_token
from collector.auth.sessions import SessionRules, end, form_token, resume, same_form_token, start
from collector.db.models import ApiToken, School
from collector.schools.records import get_school
from config.collector_settings import CollectorSettings

from .render import LANG_COOKIE, render

COOKIE = "socle_session"

router = APIRouter()


def rules(settings: CollectorSettings) -> SessionRules:
    """The session lifetime and idle time the settings give."""
    return SessionRules(lifetime=timedelta(hours=settings.dashboard_session_hours),
                        idle=timedelta(minutes=settings.dashboard_idle_minutes))


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def optional_user(request: Request, session: DbSession, state: State, at: Now) -> ApiToken | None:
    """The caller's token: the bearer token it sends, or its live session's (its form token noted)."""
    token = _bearer(request)
    if token is not None:
        return api_token(session, token, at)
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    user = resume(session, raw, at, rules(state.settings))
    if user is not None:
        request.state.session_id = raw
        request.state.form_token = form_token(raw)
    return user


def page_user(request: Request, user: Annotated[ApiToken | None, Depends(optional_user)]) -> ApiToken:
    """The signed-in token; otherwise a redirect to the sign-in page (401 for non-HTML callers)."""
    if user is not None:
        return user
    if "text/html" in request.headers.get("accept", ""):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, "sign in first", headers={"Location": f"/login?next={quote(target)}"})
    raise HTTPException(401, "sign in first, or send 'Authorization: Bearer <token>'",
                        headers={"WWW-Authenticate": "Bearer"})


def form_user(request: Request, user: Annotated[ApiToken, Depends(page_user)],
              csrf: Annotated[str | None, Form()] = None) -> ApiToken:
    """The signed-in token of a form that changes something: a session's form must carry its token."""
    raw = getattr(request.state, "session_id", None)
    if raw is not None and not same_form_token(raw, csrf):
        raise HTTPException(403, "this form has expired or did not come from this dashboard: "
                                 "open the page again and send it from there")
    return user


User = Annotated[ApiToken, Depends(page_user)]
FormUser = Annotated[ApiToken, Depends(form_user)]  # for routes that change something


def readable_school(session: DbSession, user: ApiToken, uai: str) -> School:
    """A school the user's role and scope let it read (404 or 403 otherwise)."""
    school = get_school(session, uai)
    require(user.role, user.scope, Action.read, school)
    return school


def _secure(request: Request) -> bool:
    """Whether to mark cookies Secure: over HTTPS, and on loopback (browsers allow it there)."""
    if request.url.scheme == "https":
        return True
    host = request.url.hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/dashboard"


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return render(request, "login.html", next=_safe_next(next), bad=False,
                  plain_http=request.url.scheme != "https" and not _secure(request))


@router.post("/login", include_in_schema=False)
def login(request: Request, session: DbSession, state: State, at: Now, token: Annotated[str, Form()],
          next: Annotated[str | None, Form()] = None) -> Response:
    """Check the token, start a session and give the browser its cookie."""
    row = api_token(session, token.strip(), at)
    if row is None:
        return render(request, "login.html", status_code=401, next=_safe_next(next), bad=True,
                      plain_http=request.url.scheme != "https" and not _secure(request))
    session_rules = rules(state.settings)
    raw = start(session, row, at, session_rules)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(COOKIE, raw, httponly=True, samesite="strict", secure=_secure(request), path="/",
                    max_age=int(session_rules.lifetime.total_seconds()))
    return resp


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: DbSession, at: Now,
           user: Annotated[ApiToken | None, Depends(optional_user)],
           csrf: Annotated[str | None, Form()] = None) -> Response:
    """End the session (its form token required while it lives) and forget its cookie."""
    raw = getattr(request.state, "session_id", None)
    if raw is not None:
        if not same_form_token(raw, csrf):
            raise HTTPException(403, "sign out from the dashboard's own button")
        end(session, raw, at)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/lang/{code}", include_in_schema=False)
def set_language(request: Request, code: str, next: str | None = None) -> Response:
    """Remember the chosen language and go back."""
    resp = RedirectResponse(_safe_next(next), status_code=303)
    if code in ("fr", "en"):
        resp.set_cookie(LANG_COOKIE, code, samesite="lax", secure=_secure(request), path="/",
                        max_age=365 * 86400)
    return resp

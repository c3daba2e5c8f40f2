"""Sign-in for the dashboard: the same API tokens, roles and scopes as the API.

The sign-in page takes an API token and puts it in an HttpOnly, SameSite=Strict
cookie (Secure over HTTPS and on loopback); each request looks the token up by
its hash, exactly as the API does (:func:`collector.db.store.api_token`), so a
revoked or expired token signs the browser out at once. Tools may send the
usual ``Authorization: Bearer`` header instead of the cookie.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from collector.api.deps import DbSession, Now
from collector.auth.access import Action, require
from collector.auth.credentials import api_token
from collector.db.models import ApiToken, School
from collector.schools.records import get_school

from .render import LANG_COOKIE, render

COOKIE = "socle_session"

router = APIRouter()


def _token_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


def optional_user(request: Request, session: DbSession, at: Now) -> ApiToken | None:
    """The signed-in token, if any."""
    token = _token_from(request)
    return api_token(session, token, at) if token else None


def page_user(request: Request, user: Annotated[ApiToken | None, Depends(optional_user)]) -> ApiToken:
    """The signed-in token; otherwise a redirect to the sign-in page (401 for non-HTML callers)."""
    if user is not None:
        return user
    if "text/html" in request.headers.get("accept", ""):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, "sign in first", headers={"Location": f"/login?next={quote(target)}"})
    raise HTTPException(401, "sign in first, or send 'Authorization: Bearer <token>'",
                        headers={"WWW-Authenticate": "Bearer"})


User = Annotated[ApiToken, Depends(page_user)]


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
def login(request: Request, session: DbSession, at: Now, token: Annotated[str, Form()],
          next: Annotated[str | None, Form()] = None) -> Response:
    """Check the token and set the session cookie."""
    row = api_token(session, token.strip(), at)
    if row is None:
        return render(request, "login.html", status_code=401, next=_safe_next(next), bad=True,
                      plain_http=request.url.scheme != "https" and not _secure(request))
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict", secure=_secure(request),
                    path="/", max_age=12 * 3600)
    return resp


@router.post("/logout", include_in_schema=False)
def logout() -> Response:
    """Forget the session cookie."""
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

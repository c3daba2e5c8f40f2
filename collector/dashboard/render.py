"""Jinja2 rendering with the request's language and a few number and date filters."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from . import rule_words
from .i18n import pick_language, rule_title, scope_name, translator

LANG_COOKIE = "socle_lang"  # the language a user chose, remembered by their browser
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"


def number(value: float | None, lang: str = "fr", digits: int = 1) -> str:
    """A figure as people of ``lang`` write it (French: comma decimal, thin space thousands)."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def when(value: datetime | None, lang: str = "fr") -> str:
    """A UTC time, short."""
    if value is None:
        return "—"
    return value.strftime("%d/%m/%Y %H:%M UTC" if lang == "fr" else "%Y-%m-%d %H:%M UTC")


@functools.cache
def environment() -> Environment:
    """The template environment (made on first use)."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html", "xml", "svg"]), trim_blocks=True,
                      lstrip_blocks=True)
    return env


def language(request: Request) -> str:
    """The request's language: ``?lang=``, then the cookie, then French."""
    return pick_language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def _context(request: Request) -> dict[str, Any]:
    """What every template is given: the language, its words and the number and date filters."""
    lang = language(request)
    t = translator(lang)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    def num(v: float | None, d: int = 1) -> str:
        return number(v, lang, d)

    return dict(
        request=request, lang=lang, t=t, here=here, csrf=getattr(request.state, "form_token", None),
        num=num, when=lambda v: when(v, lang), rule_title=lambda rid, title: rule_title(lang, rid, title),
        expr=lambda o: rule_words.expression(o, lang, num),
        fig=lambda metric, v, share=False: rule_words.figure(metric, v, lang, num, share=share),
        subject=lambda s: rule_words.subject(s, lang), judge_note=lambda n: rule_words.note(n, lang),
        level_name=lambda lv: rule_words.level_name(lv, lang),
        aggregate_name=lambda a: rule_words.aggregate_name(a, lang),
        scope_name=lambda sc: scope_name(lang, sc))


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page from ``templates/name`` in the request's language."""
    base = _context(request)
    html = environment().get_template(name).render(**base, **context)
    return HTMLResponse(html, status_code=status_code,
                        headers={"Content-Language": base["lang"], "Cache-Control": "no-store"})


def fragment(request: Request, name: str, **context: Any) -> Markup:
    """A part of a page from ``templates/name`` in the request's language, as HTML to put in a page
    (a part kept between requests: it must not depend on the user)."""
    return Markup(environment().get_template(name).render(**_context(request), **context))

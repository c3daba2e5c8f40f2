"""The agent's terminal in the technician's language: French when the system is French, English
otherwise.

Messages are marked ``_("...")`` in the code and translated through the standard
library's :mod:`gettext` from the catalogue ``agent/locale/fr/LC_MESSAGES/socle-agent.po``
(compiled to ``.mo`` beside it by ``scripts/i18n.sh``, which also re-extracts the
template). gettext rather than Babel: the catalogues are the same GNU format every
translation tool reads (Poedit, Weblate), and the agent's install gains nothing
(Babel brings some 30 MB of locale data the agent would never use).

The language is chosen once per command (:func:`use_system_language`), from, in
order: ``SOCLE_AGENT_LANG``; ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` (POSIX order); on
Windows, where those are seldom set, the user's UI language
(``GetUserDefaultUILanguage``). Only the agent's own words are translated: what a
tool or a server said (an error from the resolver, a certificate's complaint) is
shown as it came.
"""

from __future__ import annotations

import gettext
import os
import platform
from collections.abc import Callable, Mapping
from pathlib import Path

DOMAIN = "socle-agent"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "fr")
_LANG_FRENCH = 0x0C  # LANG_FRENCH, the primary language of a Windows LANGID (fr-FR 0x040C, fr-BE 0x080C…)

_current: gettext.NullTranslations = gettext.NullTranslations()
language = "en"


def _windows_ui_language() -> int:
    """The user's Windows UI language as a LANGID (Windows only)."""
    import ctypes

    return int(ctypes.WinDLL("kernel32").GetUserDefaultUILanguage())  # type: ignore[attr-defined]


def language_of_langid(langid: int) -> str:
    """``fr`` for any French LANGID (France, Belgium, Canada, Switzerland…), ``en`` otherwise."""
    return "fr" if langid & 0x3FF == _LANG_FRENCH else "en"


def _from_locale_name(value: str) -> str | None:
    """``fr`` / ``en`` for a locale name such as ``fr_FR.UTF-8``; None for an empty one."""
    value = value.strip()
    if not value:
        return None
    return "fr" if value.lower().split(":")[0].startswith("fr") else "en"


def system_language(env: Mapping[str, str] | None = None, os_name: str | None = None,
                    ui_language: Callable[[], int] = _windows_ui_language) -> str:
    """``fr`` when the system is French, ``en`` otherwise (see the module's docstring for the order)."""
    env = os.environ if env is None else env
    for name in ("SOCLE_AGENT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        found = _from_locale_name(env.get(name, ""))
        if found is not None:
            return found
    if os_name is None:
        os_name = platform.system().lower()
    if os_name == "windows":
        try:
            return language_of_langid(ui_language())
        except (OSError, AttributeError, ValueError):
            return "en"
    return "en"


def use_language(lang: str) -> None:
    """Translate from now on into ``lang`` (English, the source language, when it has no catalogue)."""
    global _current, language
    _current = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
    language = lang if isinstance(_current, gettext.GNUTranslations) else "en"


def use_system_language() -> str:
    """Use the system's language (:func:`system_language`); returns it."""
    use_language(system_language())
    return language


def _(message: str) -> str:
    """``message`` in the language in use."""
    return _current.gettext(message)


def N_(message: str) -> str:  # gettext's name for "mark for extraction, translate later"
    """``message`` unchanged: marks a word translated later with ``_(word)``."""
    return message


# Words the code passes around and translates where it prints them.
WORDS = (N_("report"), N_("survey"))


def number(value: float, spec: str = ".4g") -> str:
    """``value`` written as the language writes numbers: ``7.5`` in English, ``7,5`` in French."""
    text = format(value, spec)
    return text.replace(".", ",") if language == "fr" else text


def field(label: str, value: object) -> str:
    """One ``label: value`` line of a listing (``status``), values aligned; ``label`` translated,
    its colon included (French puts a space before it)."""
    width = 17 if language == "en" else 22
    return f"{label:<{width}}{value}" if len(label) < width else f"{label} {value}"


def yes_no(value: bool) -> str:
    """``yes``/``no`` (``oui``/``non``), never 0/1 or True/False."""
    return _("yes") if value else _("no")

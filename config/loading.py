"""Load a TOML file into a pydantic model, with errors that name file, field and reason."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from config.compat import tomllib

M = TypeVar("M", bound=BaseModel)


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names what is wrong."""


def describe_validation_error(source: str, exc: ValidationError) -> str:
    """One line per problem: ``source: field.path: reason``."""
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{source}: {where}: {err['msg']}")
    return "\n".join(lines)


def settings_text(path: Path, raw: bytes) -> str:
    """A settings file's text: UTF-8, with or without the byte-order mark Notepad writes; UTF-16 with
    its byte-order mark (Notepad's "Unicode"); anything else is refused, saying how to save it."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: starts as UTF-16 but is not valid UTF-16; save it as UTF-8") from None
    if b"\x00" in raw[:200]:
        raise ConfigError(f"{path}: looks like UTF-16 without a byte-order mark; save it as UTF-8 "
                          "(Notepad: File > Save as, Encoding: UTF-8)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 "
                          "(Notepad: File > Save as, Encoding: UTF-8)") from None


def load_toml(path: Path, model: type[M]) -> M:
    """Read ``path`` as TOML and validate it as ``model``; raise ConfigError otherwise."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    text = settings_text(path, raw)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        hint = ""
        if "escape" in str(exc).lower():
            hint = (" (a Windows path in double quotes reads its backslashes as escapes: write it in "
                    "single quotes, 'C:\\ProgramData\\Socle', or with forward slashes)")
        raise ConfigError(f"{path}: not valid TOML: {exc}{hint}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(str(path), exc)) from None

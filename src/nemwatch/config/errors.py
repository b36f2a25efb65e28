"""Config problems as one clear line: ``<file>: <key path>: <problem>``.

Pydantic's errors are turned into that line here: the key path in TOML terms
(``watch[2].address``, 0-based), a short problem, a suggestion for a misspelt key, and never
the offending value (it may be a secret).
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import typing
from typing import Any, Union

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from nemwatch.config.fields import FieldProblem, Loc, format_loc, type_name
from nemwatch.core.text import sanitize


class ConfigError(Exception):
    """A config that cannot be used; ``str(err)`` is ``<file>: <where>: <problem>``."""

    def __init__(self, file: str, where: str, problem: str, *, others: tuple[ConfigError, ...] = ()) -> None:
        self.file = file
        self.where = where
        self.others = others  # the further problems of the same file (``config validate`` lists them)
        self._first = "nemwatch: " + ": ".join(part for part in (file, where, problem) if part)
        if others:
            problem += f" (and {len(others)} more problem{'s' if len(others) > 1 else ''})"
        self.problem = problem
        super().__init__(": ".join(part for part in (file, where, problem) if part))

    @property
    def all_lines(self) -> list[str]:
        """Every problem of the file, one line each, as ``nemwatch config validate`` prints them."""
        return [self._first, *(e.line for e in self.others)]

    @property
    def line(self) -> str:
        """The line the CLI prints: ``nemwatch: <file>: <where>: <problem>``."""
        return f"nemwatch: {self}"


_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "tuple_type": "an array",
    "list_type": "an array",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "dict_type": "a table",
    "datetime_type": "a datetime",
}


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional around a model or tuple type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def model_at(root: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class found at ``loc`` (TOML keys and array indexes) below ``root``."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(part, int):
            if typing.get_origin(tp) not in (tuple, list):
                return None
            tp = typing.get_args(tp)[0]
            continue
        if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
            return None
        field = next(
            (f for name, f in tp.model_fields.items() if (f.alias or name) == part),
            None,
        )
        if field is None:
            return None
        tp = field.annotation
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def toml_keys(model: type[BaseModel]) -> list[str]:
    """The keys a TOML table for ``model`` may hold."""
    return [f.alias or name for name, f in model.model_fields.items()]


def _show_key(key: object) -> str:
    return sanitize(str(key), max_len=60)


def _unknown_key(root: type[BaseModel], loc: Loc) -> str:
    key = str(loc[-1])
    model = model_at(root, loc[:-1])
    if model is None:
        return f"unknown key '{_show_key(key)}'"
    valid = toml_keys(model)
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(key.lower().replace("-", "_"), valid, n=1, cutoff=0.6)
    if close:
        return f"unknown key '{_show_key(key)}' (did you mean '{close[0]}'?)"
    return f"unknown key '{_show_key(key)}' (valid keys: {', '.join(valid)})"


def describe(error: ErrorDetails, root: type[BaseModel]) -> tuple[Loc, str]:
    """The key path and the problem of one pydantic error, without the input value."""
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return loc, _unknown_key(root, loc)
    if kind in ("value_error", "assertion_error"):
        exc = ctx.get("error")
        if isinstance(exc, FieldProblem):
            return loc + exc.loc, exc.problem
        return loc, str(exc) if exc is not None else error["msg"]
    if kind == "missing":
        return loc, "required key is missing"
    if kind in _EXPECTED:
        return loc, f"expected {_EXPECTED[kind]}, got {type_name(error.get('input'))}"
    if kind in ("literal_error", "enum"):
        return loc, f"must be {ctx.get('expected', 'one of the allowed values')}"
    msg = error["msg"]
    return loc, re.sub(r"^Input should be\b", "must be", msg)


def _order(error: ErrorDetails) -> int:
    # An unknown key first: it is most often the misspelling of a key reported missing
    # (``adress = ...`` makes ``address`` missing), so the cause comes before the effect.
    return 0 if error["type"] == "extra_forbidden" else 1


def from_validation_error(err: ValidationError, file: str, root: type[BaseModel]) -> ConfigError:
    """The first problem of ``err`` as a ``ConfigError`` (with a count of the others, which it
    also carries in ``others``); unknown keys come first."""
    errors = sorted(err.errors(include_url=False), key=_order)
    found = [describe(e, root) for e in errors]
    others = tuple(ConfigError(file, format_loc(loc) or "(top level)", problem) for loc, problem in found[1:])
    loc, problem = found[0]
    return ConfigError(file, format_loc(loc) or "(top level)", problem, others=others)


_TOML_POS = re.compile(r"^(?P<msg>.*?) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$")


def from_toml_error(err: tomllib.TOMLDecodeError, file: str) -> ConfigError:
    """A TOML syntax error as ``<file>: line L, column C: TOML syntax error: <what>``."""
    text = str(err)
    match = _TOML_POS.match(text)
    if match is None:
        return ConfigError(file, "", f"TOML syntax error: {text}")
    where = f"line {match['line']}, column {match['col']}" if match["line"] else "end of file"
    msg = match["msg"]
    return ConfigError(file, where, f"TOML syntax error: {msg[:1].lower()}{msg[1:]}")

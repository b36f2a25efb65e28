"""Reading the config: find the file, parse TOML, validate, or fall back to the built-in default."""

from __future__ import annotations

import os
import stat
import sys
import tomllib
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

try:  # compiled on the usual platforms: about three times faster than tomllib
    import tomli as _fast_toml
except ImportError:  # pragma: no cover - a plain tomllib parse then
    _fast_toml = None  # type: ignore[assignment]

from nemwatch import paths
from nemwatch.config.defaults import BUILTIN_DEFAULT_NAME, default_data
from nemwatch.config.errors import ConfigError, from_toml_error, from_validation_error
from nemwatch.config.model import Config
from nemwatch.core.models import Network

EXIT_CONFIG_ERROR = 2


def _peek_network(data: dict[str, Any]) -> Network | None:
    section = data.get("network", {})
    name = section.get("name", Network.MAINNET.value) if isinstance(section, dict) else None
    try:
        return Network(name)
    except ValueError:
        return None


def config_from_data(
    data: dict[str, Any], *, file: str = "<config>", source: Path | None = None
) -> Config:
    """Validate a parsed TOML document; raise ``ConfigError`` naming ``file`` on the first problem.

    Addresses are checked against ``[network] name``; relative paths are taken from the
    directory of ``source``.
    """
    context: dict[str, Any] = {"network": _peek_network(data)}
    if source is not None:
        context["base_dir"] = source.parent
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as err:
        raise from_validation_error(err, file, Config) from None
    return config.with_source(source)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file (floats as exact ``Decimal``); raise ``ConfigError`` when it cannot."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(file, "", "no such file") from None
    except IsADirectoryError:
        raise ConfigError(file, "", "is a directory, not a config file") from None
    except OSError as err:
        raise ConfigError(file, "", f"cannot read: {err.strerror or err}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(file, f"byte {err.start}", "not UTF-8 text") from None
    if _fast_toml is not None:
        try:
            return _fast_toml.loads(text, parse_float=Decimal)  # type: ignore[no-any-return]
        except _fast_toml.TOMLDecodeError:
            pass  # tomllib below says what is wrong, in the words the error messages expect
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as err:
        raise from_toml_error(err, file) from None


@lru_cache(maxsize=1)
def default_config() -> Config:
    """The built-in configuration (mainnet, the 2018 hot wallet watched, the thief as taint source)."""
    return config_from_data(default_data(), file=BUILTIN_DEFAULT_NAME)


def resolve_config_path(path: Path | None) -> tuple[Path, bool]:
    """The file ``load_config(path)`` reads and whether it must exist (named explicitly)."""
    if path is not None:
        return Path(path).expanduser(), True
    env = os.environ.get(paths.CONFIG_ENV, "").strip()
    if env:
        return Path(env).expanduser(), True
    return paths.platform_config_path(), False


def load_config(path: Path | None = None) -> Config:
    """Load and validate the config.

    ``path`` None means ``$NEMWATCH_CONFIG``, else the platform config file; when that file does
    not exist the built-in default is returned. A named file must exist. Raises ``ConfigError``.
    """
    resolved, required = resolve_config_path(path)
    if not required and not resolved.exists():
        return default_config()
    return config_from_data(read_toml(resolved), file=str(resolved), source=resolved)


def permission_warning(config: Config) -> str | None:
    """A warning when a config holding secrets can be read by group or others, else None."""
    if config.source is None or not config.secrets():
        return None
    try:
        mode = config.source.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (
            f"nemwatch: warning: {config.source}: holds secrets but group or others can read it "
            "(chmod 600)"
        )
    return None


def config_error_exit(err: ConfigError) -> NoReturn:
    """Print ``err`` as one line on stderr and exit with status 2."""
    print(err.line, file=sys.stderr)
    raise SystemExit(EXIT_CONFIG_ERROR)


def load_config_or_exit(path: Path | None = None) -> Config:
    """``load_config`` for commands: on a problem print one line to stderr and exit 2."""
    try:
        config = load_config(path)
    except ConfigError as err:
        config_error_exit(err)
    warning = permission_warning(config)
    if warning:
        print(warning, file=sys.stderr)
    return config

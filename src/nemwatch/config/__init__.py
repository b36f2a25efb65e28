"""nemwatch configuration: TOML validated into frozen pydantic models.

``load_config(path)`` reads the file (or ``$NEMWATCH_CONFIG``, or the platform config file, or
falls back to the built-in default) and raises ``ConfigError`` whose text is one line:
``<file>: <key path>: <problem>``. Commands use ``load_config_or_exit``, which prints that line
and exits with status 2. ``config.example.toml`` documents every key.
"""

from nemwatch.config.accounts import (
    KNOWN_MARKERS,
    LabelConfig,
    TaintConfig,
    TaintSource,
    WatchConfig,
)
from nemwatch.config.alerts import AlertsConfig
from nemwatch.config.errors import ConfigError
from nemwatch.config.loader import (
    EXIT_CONFIG_ERROR,
    config_error_exit,
    config_from_data,
    default_config,
    load_config,
    load_config_or_exit,
    permission_warning,
    read_toml,
    resolve_config_path,
)
from nemwatch.config.model import Config, StateConfig
from nemwatch.config.network import DEFAULT_NODES, NetworkConfig
from nemwatch.config.price import PriceAlert, PriceConfig, PriceUrls
from nemwatch.config.render import config_to_toml

__all__ = [
    "DEFAULT_NODES",
    "EXIT_CONFIG_ERROR",
    "KNOWN_MARKERS",
    "AlertsConfig",
    "Config",
    "ConfigError",
    "LabelConfig",
    "NetworkConfig",
    "PriceAlert",
    "PriceConfig",
    "PriceUrls",
    "StateConfig",
    "TaintConfig",
    "TaintSource",
    "WatchConfig",
    "config_error_exit",
    "config_from_data",
    "config_to_toml",
    "default_config",
    "load_config",
    "load_config_or_exit",
    "permission_warning",
    "read_toml",
    "resolve_config_path",
]

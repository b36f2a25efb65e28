"""The built-in configuration used when no config file exists.

It watches the exchange hot wallet emptied on 2018-01-26 and follows the thief's account as
a taint source, on mainnet, through the public nodes, so a first run shows something real.
"""

from __future__ import annotations

from typing import Any

from nemwatch.config.accounts import KNOWN_MARKERS

HOT_WALLET_2018 = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"
THIEF_2018 = "NC4C6PSUW5CLTDT5SXAGJDQJGZNESKFK5MCN77OG"
THEFT_START_2018 = "2018-01-26T00:02:13+09:00"

BUILTIN_DEFAULT_NAME = "built-in default"


def default_data() -> dict[str, Any]:
    """The built-in configuration as it would be written in a file."""
    return {
        "network": {"name": "mainnet"},
        "watch": [
            {
                "address": HOT_WALLET_2018,
                "label": "Coincheck hot wallet (2018)",
                "urgent": True,
                "alert_outflow_xem": 0,
            }
        ],
        "taint": {
            "markers": list(KNOWN_MARKERS),
            "source": [
                {
                    "address": THIEF_2018,
                    "label": "Coincheck thief (2018)",
                    "since": THEFT_START_2018,
                    "victim": HOT_WALLET_2018,
                }
            ],
        },
        "label": [
            {"address": THIEF_2018, "name": "Coincheck thief (2018)", "kind": "thief"},
        ],
    }

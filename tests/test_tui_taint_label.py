"""The taint tree's node line: what matters first, so a narrow pane cuts only the end."""

from __future__ import annotations

from nemwatch.core.query import TaintNode
from nemwatch.tui.widgets.taint_flow import node_label

THIEF = "NBK4MU3BZYW7RQ3GHPC3TIVJEPIYRPZZO4ELCFOQ"
HOP = "NCPVLRMXLGBSC6HTC3KCDRDU6W6WPOXQGA2GSA2Q"


def test_a_hop_shows_name_amount_range_exchange_markers_and_lag_before_the_address() -> None:
    node = TaintNode(HOP, "zaif deposit", 1, THIEF, 30_000_000 * 10**6, (),
                     per_model_micro=(30_000_000 * 10**6, 5_700_000 * 10**6, 30_000_000 * 10**6),
                     kind="exchange", tag_lag_blocks=0, markers=("mosaic:thief",))
    line = node_label(node).plain
    assert line.startswith("1↳ zaif deposit  30.00M (5.70M–30.00M)  EXCHANGE  ⚑1  lag 0")
    assert line.endswith("NCPVLR-MXLGBS-C6HTC3-KCDRDU-6W6WPO-XQGA2G-SA2Q")


def test_an_unlabelled_source_shows_its_short_address_and_no_range_when_models_agree() -> None:
    node = TaintNode(THIEF, None, 0, THIEF, 2_500_000 * 10**6, (), per_model_micro=(2_500_000 * 10**6,) * 3)
    line = node_label(node).plain
    assert line == "◆ NBK4MU-3BZYW7…  2.50M"


def test_a_hostile_label_stays_literal_and_bounded() -> None:
    node = TaintNode(HOP, "[bold]x\x1b]8;;http://evil\x07\u202e" + "A" * 500, 2, THIEF, 1, (), kind="relay")
    text = node_label(node)
    assert "\x1b" not in text.plain and "\u202e" not in text.plain
    assert "[bold]x" in text.plain and "relay" in text.plain
    assert len(text.plain) < 200

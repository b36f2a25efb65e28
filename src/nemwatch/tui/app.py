"""The dashboard: one screen of panes over a data source (live engine, attached store, demo).

The source runs as one async worker and hands engine events to the app as messages; the app
re-reads the read model (coalesced) and redraws the panes. Pause freezes the panes' content;
alerts keep flowing (the alert pane, the counts, the toast and the bell). Every binding has an
id (``nemwatch.keymap``) and can be remapped in the config's ``[keys]`` table.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Static, Tree

from nemwatch.core.alert import Alert, Severity, Stage
from nemwatch.core.events import AlertRaised
from nemwatch.core.models import PriceTick
from nemwatch.core.nem.address import AddressError, validate
from nemwatch.core.query import WatchedAccount, with_balance_moves
from nemwatch.core.text import sanitize
from nemwatch.keymap import KEY_ACTIONS, PANES
from nemwatch.tui.commands import NemwatchCommands
from nemwatch.tui.export import export_all
from nemwatch.tui.gc_idle import IdleCollector
from nemwatch.tui.main_screen import MainScreen
from nemwatch.tui.screens.address_detail import AddressDetailScreen
from nemwatch.tui.screens.alert_detail import AlertDetailScreen
from nemwatch.tui.screens.help import HelpScreen
from nemwatch.tui.screens.prompt import PromptScreen
from nemwatch.tui.sources import Source
from nemwatch.tui.widgets.alerts import AlertsPane
from nemwatch.tui.widgets.footer import KeysFooter
from nemwatch.tui.widgets.movements import MovementsPane
from nemwatch.tui.widgets.pane import Pane
from nemwatch.tui.widgets.price import RANGES, PricePane
from nemwatch.tui.widgets.status_bar import StatusBar, status_text
from nemwatch.tui.widgets.taint_flow import TaintFlowPane
from nemwatch.tui.widgets.watchlist import OrdersStale, WatchlistPane

NARROW_BELOW = 100  # columns
NARROW_HIDDEN = {"taint", "movements"}
MAIN_ONLY = {"filter", "toggle_pause", "chart_range", "toggle_pane", "open", "add_address", "mark_taint",
             "label_account", "export", "acknowledge", "acknowledge_all", "sort", "maximize", "refresh"}
QUIET_STAGES = (Stage.SETTLED, Stage.RESOLVED)  # follow-ups: logged, counted, never toasted
ALERT_ROWS = 200
PREPARE_AFTER = 0.3  # seconds without a key before the neighbouring chart ranges are drawn
MOVEMENT_ROWS = 200


@dataclass
class SourceEvent(Message):
    """An engine event (or a source's change notice) for the app."""

    event: object


def make_bindings() -> list[Binding]:
    return [
        Binding(a.keys, a.action, a.description, show=a.show, id=a.id, priority=a.id == "quit")
        for a in KEY_ACTIONS
    ]


class NemwatchApp(App[None]):
    CSS_PATH = "nemwatch.tcss"
    TITLE = "nemwatch"
    BINDINGS = make_bindings()
    COMMANDS = App.COMMANDS | {NemwatchCommands}
    ENABLE_COMMAND_PALETTE = True

    paused: reactive[bool] = reactive(False, bindings=True)

    def __init__(
        self,
        source: Source,
        *,
        keymap: dict[str, str] | None = None,
        tz: tzinfo | None = None,
        bell: bool = False,
        export_dir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
        stale_after: timedelta = timedelta(minutes=15),
        tick_seconds: float = 1.0,
        tty_guard: bool = False,
    ) -> None:
        super().__init__()
        self.source = source
        self.read = source.read
        self.keymap = dict(keymap or {})
        self.tz = tz or datetime.now().astimezone().tzinfo or UTC
        self.bell_on_critical = bell
        self.export_dir = export_dir or Path.cwd()
        self.clock = clock or source.clock
        self.stale_after = stale_after
        self.tick_seconds = tick_seconds
        self.tty_guard = tty_guard
        self.pane_override: dict[str, bool] = {}
        self.narrow = False
        self._dirty: set[str] = set()
        self._missed: set[str] = set()  # what changed while paused: redrawn on resume, only that
        self._series: dict[tuple[object, ...], object] = {}  # price history per window, until new data
        self._toasts: list[Alert] = []
        self._flush_pending = False
        self._prepare_pending = False  # a call of prepare_ahead is due
        self._watched: list[object] = []
        self._watched_mark: tuple[object, ...] | None = None
        self._last_pane: str | None = None  # the pane that last held the focus (z zooms it)
        self.critical_seen: list[str] = []  # alert ids toasted, oldest first (tests read it)
        self.gc_idle = IdleCollector()  # the collector's full passes while no key is pressed
        self.last_export: list[Path] = []

    # -- layout ---------------------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        return MainScreen(id="_default")

    def compose(self) -> ComposeResult:
        if self.source.banner:
            yield Static(Text(self.source.banner, style="bold", no_wrap=True, overflow="ellipsis"), id="banner")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield WatchlistPane(id="watchlist")
                yield MovementsPane(id="movements")
                yield AlertsPane(id="alerts")
            with Vertical(id="right"):
                yield PricePane(id="price")
                yield TaintFlowPane(id="taint")
        yield StatusBar(id="status")
        yield KeysFooter()

    def on_mount(self) -> None:
        if self.keymap:
            self.set_keymap(self.keymap)
        self.apply_layout(self.size.width)
        self.refresh_all()
        self.query_one("#watch-table", DataTable).focus()
        self.run_source()
        if self.tick_seconds > 0:
            self.set_interval(self.tick_seconds, self.update_status)
        if self.tty_guard:
            self.set_interval(5, self.check_terminal)
        self.call_after_refresh(self.after_first_frame)

    def after_first_frame(self) -> None:
        self.freeze_heap()
        self.gc_idle.start()
        self.set_interval(1.0, self.gc_idle.tick)
        self.query_one(WatchlistPane).prefetch_moves()  # in a thread: sorting by last move is then immediate

    def freeze_heap(self) -> None:
        """After the first frame, move what start-up built (imports, config, thousands of
        watched accounts, widgets) out of the garbage collector's reach: its full passes then
        scan only what the dashboard made since, instead of pausing a key press now and then
        for all of it."""
        gc.freeze()

    def check_terminal(self) -> None:
        """Exit when the terminal went away (a closed ssh session must not leave us spinning)."""
        try:
            alive = os.isatty(sys.stdin.fileno())
        except (OSError, ValueError):
            alive = False
        if not alive:
            self.exit(return_code=1)

    @work(exclusive=True, group="source", exit_on_error=False)
    async def run_source(self) -> None:
        await self.source.run(lambda event: self.post_message(SourceEvent(event)))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.gc_idle.touch()
        await super().on_event(event)

    async def on_unmount(self) -> None:
        self.gc_idle.close()
        self.workers.cancel_group(self, "source")
        try:
            await self.source.aclose()
        except Exception as err:  # closing must not hide the exit
            self.log.error(f"closing the data source failed: {err}")

    def on_resize(self, event: events.Resize) -> None:
        self.apply_layout(event.size.width)

    def apply_layout(self, width: int) -> None:
        self.narrow = width < NARROW_BELOW
        self.screen.set_class(self.narrow, "narrow")
        self.query_one(WatchlistPane).narrow = self.narrow
        for pane, _ in PANES:
            self._widget(pane).display = self.pane_visible(pane)

    def pane_visible(self, pane: str) -> bool:
        if pane in self.pane_override:
            return self.pane_override[pane]
        return not (self.narrow and pane in NARROW_HIDDEN)

    def _widget(self, pane: str) -> Pane | StatusBar:
        return self.query_one(f"#{pane}", Pane if pane != "status" else StatusBar)  # type: ignore[arg-type]

    # -- data -----------------------------------------------------------------------------

    @on(SourceEvent)
    def source_event(self, message: SourceEvent) -> None:
        event = message.event
        if isinstance(event, AlertRaised):
            self._dirty.add("alerts")
            self._dirty.add("chain")
            alert = event.alert
            if (
                alert.severity is Severity.CRITICAL
                and alert.stage not in QUIET_STAGES
                and alert.alert_id not in self.critical_seen
            ):
                self.critical_seen.append(alert.alert_id)
                self._toasts.append(alert)
        else:
            kind = type(event).__name__
            self._dirty.add("price" if kind in ("PriceChanged", "PriceTicked") else "chain")
            if kind == "StoreChanged":
                self._dirty.update({"alerts", "price"})
        if not self._flush_pending:
            self._flush_pending = True
            self.set_timer(0.2, self.flush)

    def flush(self) -> None:
        self._flush_pending = False
        self.toast_criticals()
        dirty, self._dirty = self._dirty, set()
        self.refresh_all(dirty)

    def toast_criticals(self) -> None:
        """One toast (and one bell) per burst of new critical alerts, however many arrived."""
        burst, self._toasts = self._toasts, []
        if not burst:
            return
        newest = sanitize(burst[-1].summary, max_len=300)
        text = newest if len(burst) == 1 else f"{len(burst)} new critical alerts; newest: {newest}"
        self.clear_notifications()  # the newest burst replaces the last toast: no pile over the panes
        self.notify(text, title="CRITICAL alert", severity="error", timeout=12, markup=False)
        if self.bell_on_critical:
            self.bell()

    def refresh_all(self, what: set[str] | None = None) -> None:
        """Re-read and redraw; while paused only the alerts and the status bar move."""
        what = what if what is not None else {"alerts", "chain", "price"}
        if self.paused:
            self._missed |= what & {"chain", "price"}
        with self.batch_update():
            if "alerts" in what or "chain" in what:
                self.show_alerts()
            if not self.paused:
                if "chain" in what:
                    self.show_watchlist()
                    self.show_movements()
                    self.show_taint()
                if "price" in what or "chain" in what:
                    self._series.clear()  # new prices or alerts: read the window again
                    self.show_price()
            self.update_status()

    def show_watchlist(self) -> None:
        unread_critical = {
            e.alert.address
            for e in self.read.alerts(limit=ALERT_ROWS).items
            if not e.acknowledged and e.alert.severity is Severity.CRITICAL and e.alert.address
        }
        pane = self.query_one(WatchlistPane)
        pane.moves_for = self.read.last_moves  # read for the rows on screen only
        pane.balances_for = self.read.stream_balances  # the same: balances as of the last block
        pane.bulk_moves_for = self.bulk_last_moves
        tick = self.read.latest_price()
        pane.bulk_balances_for = lambda accounts: self.bulk_stream_balances(accounts, tick)
        mark = (self.read.generation(), len(self.read.watch.rules), len(self.read.watch.labels))
        if mark != self._watched_mark:  # thousands of accounts: read again only when something changed
            self._watched, self._watched_mark = self.read.watched(with_moves=False, stream=False), mark
        pane.show(self._watched, self.clock(), self.tz, unread_critical)  # type: ignore[arg-type]

    def bulk_last_moves(self, addresses: list[str]) -> dict[str, object]:
        """Every account's last movement, read in a worker thread on a connection of its own so
        the panes' reads never wait for it (the store's connection is shared under a lock)."""
        from nemwatch.core.store import Store

        path = self.read.store.path
        try:
            own = Store.open_readonly(path)
        except Exception:  # an in-memory or unreadable store: share the connection
            return self.read.last_moves(addresses)  # type: ignore[return-value]
        try:
            return own.last_moves(addresses)  # type: ignore[return-value]
        finally:
            own.close()

    def bulk_stream_balances(self, accounts: list[WatchedAccount], tick: PriceTick | None) -> list[WatchedAccount]:
        """Every account with its balance as of the last block, valued at ``tick``: read in a
        worker thread on a connection of its own (0.2-0.4 s for 10,000 accounts), so that
        sorting by balance or value takes the last block into account without a read on a key."""
        from nemwatch.core.store import Store

        try:
            own = Store.open_readonly(self.read.store.path)
        except Exception:  # an in-memory or unreadable store: share the connection
            moved = self.read.balance_moves(accounts)
        else:
            try:
                moved = self.read.balance_moves(accounts, store=own)
            finally:
                own.close()
        return with_balance_moves(accounts, moved, tick if moved else None)

    def show_movements(self) -> None:
        page = self.read.movements(limit=MOVEMENT_ROWS)
        self.query_one(MovementsPane).show(page.items, set(self.read.watch), self.tz, self.read.transfer_count())

    def show_taint(self) -> None:
        read = self.read
        try:
            progress, roots = read.laundering_progress(), read.taint_flow()
        except sqlite3.Error:  # a store without the taint tables (an older one, attached read-only)
            progress, roots = [], tuple(read.taint_flow_sources())
        self.query_one(TaintFlowPane).show(roots, progress, read.taint_model)

    def price_series(self, index: int | None = None):  # type: ignore[no-untyped-def]
        """The price history of the range shown (or of range ``index``), read once per window
        until new data comes."""
        pane = self.query_one(PricePane)
        start, end = pane.window(self.clock(), index)
        key = (start, end, max(40, pane.size.width * 2))
        series = self._series.get(key)
        if series is None:  # [ and ] back to a range read since the last new data: no store read
            if len(self._series) >= 16:
                self._series.clear()
            series = self._series[key] = self.read.price_history(start, end, max_points=key[2])
        return series

    def show_price(self) -> None:
        pane = self.query_one(PricePane)
        series = self.price_series()
        tick = self.read.latest_price()
        stale = tick is None or self.clock() - tick.at > self.stale_after
        pane.show(series, self.tz, stale=stale)
        self._prepare_later(PREPARE_AFTER)

    def _prepare_later(self, delay: float) -> None:
        if not self._prepare_pending:
            self._prepare_pending = True
            self.set_timer(delay, self.prepare_ahead)

    def prepare_ahead(self) -> None:
        """Once no key came for a moment, do one piece of the work a key would otherwise do,
        and come back for the next: read and draw the chart ranges next to the one shown (``[``
        and ``]``; plotext builds a range in 30-60 ms), then sort the watchlist's orders (``s``;
        10,000 accounts). One piece a call, so a key arriving meanwhile waits for one at most."""
        self._prepare_pending = False
        if not self.is_running:
            return
        if time.monotonic() - self.gc_idle.last_input < PREPARE_AFTER:
            self._prepare_later(PREPARE_AFTER)  # keys are coming: later
            return
        if not self.paused:
            done = self.prepare_price_range()
            if done:
                self._prepare_later(0.05)
                return
            if done is None:  # the chart is not mounted yet: come back for it
                self._prepare_later(PREPARE_AFTER)
        if self.query_one(WatchlistPane).prepare_order():
            self._prepare_later(0.05)

    def prepare_price_range(self) -> bool | None:
        """Draw one range next to the one shown ahead of time: True when one was drawn, False
        when both are ready, None while the chart is not mounted. The range shown is read again
        first when its window moved on (a new minute) or was read before the pane had its size
        (the first frame's chart had 40 points whatever its width)."""
        pane = self.query_one(PricePane)
        if pane.shown_series is not None and self.price_series() is not pane.shown_series:
            self.show_price()
            return True
        for step in (1, -1):
            built = pane.prepare(self.price_series(pane.range_index + step), self.tz)
            if built is None or built:
                return built
        return False

    @on(OrdersStale)
    def orders_stale(self) -> None:
        self._prepare_later(PREPARE_AFTER)

    def show_alerts(self) -> None:
        self.query_one(AlertsPane).show(self.read.alerts(limit=ALERT_ROWS).items, self.read.alert_counts(), self.tz)

    def update_status(self) -> None:
        text = status_text(
            self.source.status(), self.read.alert_counts(), self.read.latest_price(), self.clock(),
            paused=self.paused, stale_after_seconds=self.stale_after.total_seconds(),
        )
        self.query_one(StatusBar).show(text)

    # -- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in MAIN_ONLY and self.screen is not self.screen_stack[0]:
            return False
        return True

    def action_help(self) -> None:
        notes = [
            "Pause (p) freezes the panes; alerts keep arriving in the alert pane, the counts and the toasts.",
            "Up and down are shown by ▲/▼ and a sign as well as colour (NO_COLOR and 16-colour terminals).",
            "Taint flow: ◆ a source, n↳ hop n; the amount under the selected model, then (lowest–highest) over"
            " all models; EXCHANGE where taint reached one; ⚑n marker mosaics; lag = blocks between the hop and"
            " its account being marked.",
        ]
        if self.source.banner:
            notes.insert(0, self.source.banner)
        self.push_screen(HelpScreen(self.keymap, notes))

    def action_filter(self) -> None:
        if not self.pane_visible("watchlist"):
            self.action_toggle_pane("watchlist")
        self.query_one(WatchlistPane).open_filter()

    def on_key(self, event: object) -> None:
        key = getattr(event, "key", None)
        pane = self.query_one(WatchlistPane)
        if key == "escape" and self.screen is self.screen_stack[0]:
            if pane.filter_text or self.focused is pane.query_one("#watch-filter"):
                pane.clear_filter()
            elif self.screen.maximized is not None:
                self.screen.minimize()

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused:
            missed, self._missed = self._missed, set()
            self.refresh_all(missed)  # nothing changed while paused: only the status bar moves
        else:
            self.update_status()

    def action_refresh(self) -> None:
        self.source.poll_now()
        self.refresh_all()

    def action_chart_range(self, step: int) -> None:
        self.query_one(PricePane).shift_range(step)  # the pane's title names the range
        self.show_price()

    def set_chart_range(self, name: str) -> None:
        pane = self.query_one(PricePane)
        pane.range_index = [n for n, _ in RANGES].index(name)
        self.show_price()

    def action_toggle_pane(self, pane: str) -> None:
        visible = not self.pane_visible(pane)
        self.pane_override[pane] = visible
        self._widget(pane).display = visible
        if not visible and self.screen.maximized is self._widget(pane):
            self.screen.minimize()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        pane = next((a for a in event.widget.ancestors_with_self if isinstance(a, Pane)), None)
        if pane is not None and pane.id:
            self._last_pane = pane.id

    def action_maximize(self) -> None:
        """Zoom the pane holding the focus; with nothing focused (its pane was hidden and shown
        again), the pane that last had the focus, or else the first pane shown."""
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = self.focused
        if focused is not None:
            screen.maximize(focused, container=True)
            return
        order = [self._last_pane] if self._last_pane else []
        order += [pane for pane, _ in PANES if pane != "status"]
        target = next((w for p in order if self.pane_visible(p) and isinstance(w := self._widget(p), Pane)), None)
        if target is None:
            return
        inner = next((w for w in target.query("*") if w.focusable and w.display), None)
        if inner is not None:
            inner.focus()
        screen.maximize(target, container=False)

    def action_sort(self) -> None:
        self.query_one(WatchlistPane).cycle_sort()  # re-sorted in memory, no store read; the title names it

    # selection and drill-down

    def selected_address(self) -> str | None:
        focused = self.focused
        for pane_type in (WatchlistPane, TaintFlowPane):
            pane = self.query_one(pane_type)
            if focused is not None and focused in pane.walk_children():
                return pane.selected()
        moves = self.query_one(MovementsPane)
        if focused is moves.table:
            identity = moves.selected()
            move = self.read.transfer(identity) if identity else None
            if move is not None:
                watched = self.read.watch
                t = move.transfer
                return t.recipient if t.sender in watched and t.recipient not in watched else t.sender
        alerts = self.query_one(AlertsPane)
        if focused is alerts.table:
            entry = self.read.alert(alerts.selected() or "")
            return entry.alert.address if entry else None
        return None

    def action_open(self) -> None:
        alerts = self.query_one(AlertsPane)
        if self.focused is alerts.table:
            self.open_alert(alerts.selected())
            return
        address = self.selected_address()
        if address:
            self.open_address(address)

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "alerts-table":
            self.open_alert(str(event.row_key.value))
        elif event.data_table.id in ("watch-table", "moves-table"):
            address = self.selected_address()
            if address:
                self.open_address(address)

    @on(Tree.NodeSelected)
    def node_selected(self, event: Tree.NodeSelected[str]) -> None:
        if event.node.data:
            self.open_address(event.node.data)

    def open_address(self, address: str) -> None:
        self.push_screen(AddressDetailScreen(self.read, address, self.clock(), self.tz))

    def open_alert(self, alert_id: str | None) -> None:
        entry = self.read.alert(alert_id) if alert_id else None
        if entry is None:
            return

        def after(address: str | None) -> None:
            self.show_alerts()
            self.update_status()
            if address:
                self.open_address(address)

        self.push_screen(AlertDetailScreen(entry, self.tz), after)

    # acknowledgement

    def acknowledge_ids(self, ids: list[str]) -> int:
        done = self.read.acknowledge(ids)
        self.show_alerts()
        self.show_watchlist()
        self.update_status()
        return done

    def action_acknowledge(self) -> None:
        alert_id = self.query_one(AlertsPane).selected()
        if alert_id:
            self.acknowledge_ids([alert_id])

    def action_acknowledge_all(self) -> None:
        self.read.acknowledge_all()
        self.show_alerts()
        self.show_watchlist()
        self.update_status()

    # edits through prompts

    def _valid_address(self, text: str) -> str:
        try:
            return validate(text, self.read_network())
        except AddressError as err:
            raise ValueError(f"address: {err}") from None

    def read_network(self):  # type: ignore[no-untyped-def]
        from nemwatch.core.models import Network

        network = getattr(self.source, "network", Network.MAINNET)
        return Network(network) if not isinstance(network, Network) else network

    def action_add_address(self) -> None:
        def check(text: str) -> str:
            parts = text.strip().split(maxsplit=1)
            if not parts:
                raise ValueError("type an address, then optionally a label")
            address = self._valid_address(parts[0])
            label = sanitize(parts[1], max_len=80) if len(parts) > 1 else None
            return self.source.add_watch(address, label)

        self.push_screen(PromptScreen("Watch an address", "N... address, then an optional label", check), self._done)

    def action_mark_taint(self) -> None:
        def check(text: str) -> str:
            return self.source.mark_taint_source(self._valid_address(text))

        selected = self.selected_address() or ""
        self.push_screen(PromptScreen("Mark a taint source", "N... address", check, value=selected), self._done)

    def action_label_account(self) -> None:
        selected = self.selected_address()

        def check(text: str) -> str:
            parts = text.strip().split(maxsplit=1)
            if len(parts) < 2:
                raise ValueError("type the address, then the label")
            return self.source.set_label(self._valid_address(parts[0]), sanitize(parts[1], max_len=80))

        value = f"{selected} " if selected else ""
        self.push_screen(PromptScreen("Label an account", "address label", check, value=value), self._done)

    def action_jump(self) -> None:
        def check(text: str) -> str:
            return self._valid_address(text)

        self.push_screen(PromptScreen("Jump to address", "N... address", check), lambda a: a and self.open_address(a))

    def _done(self, message: str | None) -> None:
        if message:
            self.notify(sanitize(message), timeout=4, markup=False)
            self.refresh_all()

    def action_export(self) -> None:
        try:
            self.last_export = export_all(self.read, self.export_dir, self.clock())
        except OSError as err:
            self.notify(sanitize(f"export failed: {err}"), severity="error", markup=False)
            return
        self.notify(sanitize(f"exported {len(self.last_export)} CSV files to {self.export_dir}"), timeout=6, markup=False)

"""Dashboard benchmark: first frame, key-to-repaint latency, idle CPU and memory of the real
``nemwatch --attach`` process in a pseudo-terminal, over a state database of N watched accounts
and M stored transfers.

    .venv/bin/python bench/tui_bench.py                # 10,000 watched, 100,000 transfers, 30 s idle
    .venv/bin/python bench/tui_bench.py --quick        # 200 / 2,000, 2 s idle (the smoke test's run)

How it measures (see bench/README.md, "Dashboard"):
- the dashboard runs as its users start it (``python -m nemwatch --attach --config C --state D``)
  in a pty of 120x40 with TERM=xterm-256color; this script plays the terminal: it answers the
  driver's synchronized-output query, so every frame arrives between ``CSI ?2026h`` and
  ``CSI ?2026l`` and a frame's end can be seen in the byte stream;
- first frame: from spawning the process to the end of the first frame that shows the watchlist
  with rows (the process's imports, config parsing and store reads included);
- key to repaint: from writing a key's bytes to the pty to the moment the first frame rendered
  after the key's action finished is handed to the terminal (two probes in the dashboard process,
  ``--child``: an action's end and a frame's end, on the same monotonic clock as this script);
- idle CPU: the process's user+system CPU time (``/proc/PID/stat``) over ``--idle-seconds`` with
  the app's own timers running (status tick, attach poll, terminal guard), as a share of one core;
- RSS: VmRSS and VmHWM of the process at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import platform
import pty
import random
import select
import shlex
import struct
import subprocess
import sys
import tempfile
import termios
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import summary, synthetic_addresses  # noqa: E402

SYNC_ON, SYNC_OFF = b"\x1b[?2026h", b"\x1b[?2026l"
DECRQM_2026 = b"\x1b[?2026$p"
NOW = datetime.now(UTC).replace(microsecond=0)
KEYS: tuple[tuple[str, bytes], ...] = (
    ("down", b"\x1b[B"), ("down", b"\x1b[B"), ("down", b"\x1b[B"), ("up", b"\x1b[A"),
    ("pagedown", b"\x1b[6~"), ("s", b"s"), ("]", b"]"), ("[", b"["), ("p", b"p"), ("p", b"p"),
    ("tab", b"\t"), ("shift+tab", b"\x1b[Z"), ("3", b"3"), ("3", b"3"),
)
TARGETS = {"first_frame_s": 1.5, "key_p95_ms": 50.0, "idle_cpu_percent": 3.0}


def build_state(state: Path, watched: int, transfers: int, *, seed: int = 9) -> Path:
    """A config watching ``watched`` accounts and a state database holding ``transfers``
    transfers between them, balances, 200 alerts and a week of prices."""
    from nemwatch.core.alert import Alert, Severity, Stage, make_alert_id
    from nemwatch.core.models import Candle, PriceTick
    from nemwatch.core.price.store import PriceStore
    from nemwatch.core.store import Store, TransferRow, TransferStatus

    rng = random.Random(seed)
    addresses = synthetic_addresses(watched + 100, seed=seed)
    mine, others = addresses[:watched], addresses[watched:]
    config = state / "config.toml"
    lines = ['[network]\nnodes = ["http://127.0.0.1:9"]\n', "[price]\nsources = []\n", "[alerts]\nsinks = []\n"]
    lines += [f'[[watch]]\naddress = "{a}"\nlabel = "account {i}"\n' for i, a in enumerate(mine)]
    config.write_text("".join(lines))
    config.chmod(0o600)
    store = Store.open(state / "nemwatch.sqlite3", synchronous="NORMAL")
    with store.transaction():
        for i, a in enumerate(mine):
            store.upsert_account(a, label=f"account {i}", urgent=False, now=NOW)
            store.set_balance(a, rng.randrange(10**6, 10**14), 1_000_000)
        for n in range(transfers):
            outgoing = rng.random() < 0.5
            a, b = rng.choice(mine), rng.choice(others)
            store.upsert_transfer(TransferRow(
                identity=f"{n:064x}", hash=f"{n:064x}", inner_hash=None, height=1_000_000 + n // 50,
                sender=a if outgoing else b, recipient=b if outgoing else a, xem=rng.randrange(1, 10**12),
                fee=50_000, tx_time=NOW - timedelta(seconds=30 * (transfers - n)), status=TransferStatus.CONFIRMED,
                first_seen=NOW, message=f"payment {n}" if n % 3 == 0 else None,
                message_type="plain" if n % 3 == 0 else None, mosaics=(),
            ))
    store.add_alerts([
        Alert(alert_id=make_alert_id("mainnet", "outflow", f"b{n}", Stage.CONFIRMED), rule="outflow",
              stage=Stage.CONFIRMED, severity=(Severity.CRITICAL, Severity.WARNING, Severity.INFO)[n % 3],
              detected_at=NOW - timedelta(minutes=n), summary=f"OUTFLOW {n} XEM", address=mine[n % watched],
              amount=n * 10**6, tx_hash=f"b{n}")
        for n in range(200)
    ], ["journal"])
    store.close()
    prices = PriceStore(state / "nemwatch.sqlite3")
    prices.add_candles([
        Candle("zaif", "xem_jpy", NOW - timedelta(days=7) + timedelta(minutes=30 * i), 1800,
               Decimal(100), Decimal(101), Decimal(99), Decimal(100 + (i % 20)), Decimal(1000))
        for i in range(7 * 48)
    ])
    for i in range(120):
        prices.add_tick(PriceTick("zaif", "xem_jpy", Decimal(100) + Decimal(i % 7), NOW - timedelta(minutes=120 - i)))
    prices.close()
    return config


class Terminal:
    """The dashboard process on a pty, with a reader that plays the terminal's part."""

    def __init__(self, argv: list[str], *, cols: int = 120, rows: int = 40) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TEXTUAL_COLOR_SYSTEM")}
        env.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                                     start_new_session=True)
        os.close(slave)
        self.out = bytearray()
        self.frames_done = 0  # frames completed so far (SYNC_OFF seen)

    def pump(self, timeout: float) -> bool:
        """Read what is there (up to ``timeout``); answer the sync query. False at EOF."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 1 << 16)
        except OSError:
            return False
        if not chunk:
            return False
        start = max(0, len(self.out) - 16)
        self.out += chunk
        if DECRQM_2026 in self.out[start:]:
            os.write(self.master, b"\x1b[?2026;2$y")  # yes: synchronized output supported
        self.frames_done = self.out.count(SYNC_OFF)
        return True

    def wait_frame(self, after: int, timeout: float, needle: bytes | None = None) -> float | None:
        """Seconds until a frame past ``after`` ends (holding ``needle`` somewhere in the stream)."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            if not self.pump(0.005):
                return None
            if self.frames_done > after and (needle is None or needle in self.out):
                return time.monotonic() - began
        return None

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mb(self) -> dict[str, float]:
        out = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = round(int(line.split()[1]) * 1024 / 1e6, 1)
        return out

    def close(self) -> int | None:
        with contextlib.suppress(OSError):
            os.write(self.master, b"q")
        deadline = time.monotonic() + 10
        while self.proc.poll() is None and time.monotonic() < deadline:
            if not self.pump(0.05):
                break
        if self.proc.poll() is None:
            self.proc.kill()
        code = self.proc.wait(timeout=10)
        os.close(self.master)
        return code


def child(argv: list[str]) -> int:
    """The dashboard as users start it, with two probes writing to ``$NEMWATCH_BENCH_LOG``: when
    each action (a key's binding) finished, and when each frame was handed to the terminal."""
    log = open(os.environ["NEMWATCH_BENCH_LOG"], "a", buffering=1)  # noqa: SIM115 (lives as long as the process)
    from textual.app import App
    from textual.drivers.linux_driver import LinuxDriver

    run_action, write = App.run_action, LinuxDriver.write

    async def timed_action(self, *a, **kw):  # type: ignore[no-untyped-def]
        try:
            return await run_action(self, *a, **kw)
        finally:
            log.write(f"A {time.monotonic()}\n")

    def timed_write(self, data: str) -> None:  # type: ignore[no-untyped-def]
        write(self, data)
        if SYNC_OFF.decode() in data:
            log.write(f"F {time.monotonic()}\n")

    App.run_action = timed_action  # type: ignore[method-assign]
    LinuxDriver.write = timed_write  # type: ignore[method-assign]
    from nemwatch.cli import main as nemwatch

    sys.argv = ["nemwatch", *argv]
    return nemwatch() or 0


def key_latency(term: Terminal, log: Path, data: bytes, timeout: float = 10.0) -> float | None:
    """Seconds from writing ``data`` to the end of the first frame drawn after its action ran."""
    sent = time.monotonic()
    os.write(term.master, data)
    while time.monotonic() - sent < timeout:
        term.pump(0.005)
        events = [line.split() for line in log.read_text().splitlines()]
        done = next((float(t) for kind, t in events if kind == "A" and float(t) >= sent), None)
        if done is not None:
            frame = next((float(t) for kind, t in events if kind == "F" and float(t) >= done), None)
            if frame is not None:
                return frame - sent
    return None


def run(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="nemwatch-tui-bench-") as tmp:
        state = args.state or Path(tmp)
        t0 = time.monotonic()
        config = state / "config.toml"
        if not config.exists():  # --state: built once, reused by later runs
            state.mkdir(parents=True, exist_ok=True)
            config = build_state(state, args.watched, args.transfers)
        built = time.monotonic() - t0
        log = Path(tmp) / "probe.log"
        log.write_text("")
        os.environ["NEMWATCH_BENCH_LOG"] = str(log)
        argv = [sys.executable, str(Path(__file__).resolve()), "--child", "--attach", "--config", str(config),
                "--state", str(state)]
        term = Terminal(argv)
        try:
            first = term.wait_frame(0, 60.0, needle=b"account ")
            if first is None:
                raise SystemExit("the dashboard drew no watchlist in 60 s:\n" + term.out[-3000:].decode(errors="replace"))
            first_frame = time.monotonic() - term.started
            # Let the start settle as a user's first look does: keys go once no frame came for 0.5 s
            # (at most 10 s). Work the dashboard does just after its first frame (the chart mounted,
            # the last movements read) otherwise lands in the first presses, which measured start-up.
            settle = time.monotonic()
            while time.monotonic() - settle < 10:
                term.pump(0.05)
                frames = [float(t) for kind, t in (line.split() for line in log.read_text().splitlines()) if kind == "F"]
                if frames and time.monotonic() - frames[-1] > 0.5:
                    break
            latencies: dict[str, list[float]] = {}
            presses: list[tuple[str, float | None]] = []  # in the order played, for the outliers
            for _ in range(args.rounds):
                for name, data in KEYS:
                    took = key_latency(term, log, data)
                    presses.append((name, None if took is None else round(took * 1000, 1)))
                    if took is not None:
                        latencies.setdefault(name, []).append(took * 1000)
                    time.sleep(0.05)
            settled = time.monotonic()  # idle means idle: wait until no frame came for 3 s (max 30 s)
            while time.monotonic() - settled < 30:
                term.pump(0.2)
                frames = [float(t) for kind, t in (line.split() for line in log.read_text().splitlines()) if kind == "F"]
                if not frames or time.monotonic() - frames[-1] > 3.0:
                    break
            cpu0, wall0 = term.cpu_seconds(), time.monotonic()
            while time.monotonic() - wall0 < args.idle_seconds:
                term.pump(0.2)
            idle_cpu = (term.cpu_seconds() - cpu0) / (time.monotonic() - wall0) * 100
            memory = term.memory_mb()
        finally:
            code = term.close()
    every = [v for values in latencies.values() for v in values]
    key_p95 = summary(every, 1)["p95"]
    result = {
        "command": "python bench/tui_bench.py " + shlex.join(sys.argv[1:]),
        "date": NOW.date().isoformat(),
        "machine": {"python": platform.python_version(), "platform": platform.platform(terse=True),
                    "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]},
        "settings": {"watched": args.watched, "transfers": args.transfers, "idle_seconds": args.idle_seconds,
                     "rounds": args.rounds, "terminal": "120x40 xterm-256color"},
        "state_build_s": round(built, 1),
        "first_frame_s": round(first_frame, 3),
        "key_to_repaint_ms": {"all": summary(every, 1), **{k: summary(v, 1) for k, v in latencies.items()}},
        "presses_ms": presses,
        "idle_cpu_percent": round(idle_cpu, 2),
        "memory_mb": memory,
        "exit_code": code,
        "targets": {
            "first_frame_s": [TARGETS["first_frame_s"], first_frame < TARGETS["first_frame_s"]],
            "key_p95_ms": [TARGETS["key_p95_ms"], key_p95 is not None and key_p95 < TARGETS["key_p95_ms"]],
            "idle_cpu_percent": [TARGETS["idle_cpu_percent"], idle_cpu < TARGETS["idle_cpu_percent"]],
        },
    }
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--watched", type=int, default=10_000)
    parser.add_argument("--transfers", type=int, default=100_000)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3, help="passes over the key list")
    parser.add_argument("--quick", action="store_true", help="200 watched, 2,000 transfers, 2 s idle, 1 round")
    parser.add_argument("--state", type=Path, help="keep the generated state here and reuse it when present")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "tui_latest.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.watched, args.transfers, args.idle_seconds, args.rounds = 200, 2_000, 2.0, 1
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    keys = result["key_to_repaint_ms"]["all"]  # type: ignore[index]
    print(f"first frame {result['first_frame_s']} s · key to repaint median {keys['median']} ms, "
          f"p95 {keys['p95']} ms, max {keys['max']} ms · idle CPU {result['idle_cpu_percent']}% of a core · "
          f"memory {result['memory_mb']} · load {result['machine']['load_average']}")  # type: ignore[index]
    for name, (target, ok) in result["targets"].items():  # type: ignore[union-attr]
        print(f"  {name:<18} target {target:<6} {'PASS' if ok else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``nemwatch sim``: serve a scenario from local NIS1 nodes (and its price API) until stopped."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click


def _first_line(text: str) -> str:
    return " ".join(text.split()).split(". ")[0].rstrip(".")


FAULT_EPILOG = """\b
Faults on demand (per node): POST /_sim/fault {{"kind": KIND, ...}}; DELETE /_sim/fault clears them.
Every parameter has a default; HTTP faults also take count, for_seconds and paths. Kinds:
{kinds}
Example: curl -s -X POST URL/_sim/fault -d '{{"kind": "error", "status": 503, "count": 3}}'
"""


def _epilog() -> str:
    from nemwatch.sim.control import fault_kinds_help

    return FAULT_EPILOG.format(kinds="\n".join("  " + line for line in fault_kinds_help().splitlines()))


@click.command("sim", epilog=_epilog())
@click.option("--scenario", "scenario_name", default="coincheck-2018", show_default=True,
              help="A built-in scenario name or a path to a scenario TOML file.")
@click.option("--speed", type=float, default=None, help="Simulated seconds per real second (default: the scenario's).")
@click.option("--port", type=int, default=0, show_default=True,
              help="Port of the first node (the others take the next ones); 0 picks free ports.")
@click.option("--nodes", type=click.IntRange(1, 16), default=1, show_default=True, help="Number of nodes sharing the chain.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--market-port", type=int, default=0, show_default=True, help="Port of the price API; 0 picks a free one.")
@click.option("--no-market", is_flag=True, help="Do not serve the price API.")
@click.option("--frozen", is_flag=True, help="Stop the clock: time moves only with POST /_sim/advance.")
@click.option("--scale", type=click.IntRange(0), default=0, help="Add this many generated transfers (a benchmark variant).")
@click.option("--list", "list_only", is_flag=True, help="List the built-in scenarios and exit.")
@click.option("--write-config", "write_config", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write a ready `nemwatch watch` config for this simulator to FILE (else it is printed).")
def command(scenario_name: str, speed: float | None, port: int, nodes: int, host: str, market_port: int,
            no_market: bool, frozen: bool, scale: int, list_only: bool, write_config: Path | None) -> None:
    """Run local NIS1 nodes that play a scenario, with fault controls under /_sim/.

    Prints (or with --write-config writes) a ready config for `nemwatch watch`: the nodes, the
    scenario's hot wallet watched, the price API, polling fast enough for --speed, and a start
    height at the scenario's first block, so a watcher started late still sees everything.
    """
    from nemwatch.sim import ManualClock, ScaledClock, ScenarioError, SimCluster, builtin_names, load_scenario

    if list_only:
        for name in builtin_names():
            scenario = load_scenario(name)
            click.echo(f"{name}: {_first_line(scenario.description)}")
        return
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise click.BadParameter("the simulator serves on the loopback interface only", param_hint="--host")
    try:
        scenario = load_scenario(scenario_name)
        if scale:
            scenario = scenario.scaled(scale, max(2, scale // 10), signing="unsigned_fast")
        if speed is not None and speed <= 0:
            raise click.BadParameter("must be positive", param_hint="--speed")
        clock: Any = ManualClock(scenario.start) if frozen else ScaledClock(scenario.start, speed or scenario.speed)
        ports = [port + i if port else 0 for i in range(nodes)]
        cluster = SimCluster.start(scenario, nodes=nodes, clock=clock, host=host, ports=ports,
                                   market=not no_market, market_port=market_port)
    except ScenarioError as err:
        raise click.ClickException(str(err)) from None
    except OSError as err:
        raise click.ClickException(f"cannot listen: {err.strerror or err}") from None

    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _banner(cluster, frozen, speed or scenario.speed)
        _ready_config(cluster, frozen, speed or scenario.speed, write_config)
        while not stop.wait(0.5):
            continue  # short waits keep the main thread ready for SIGINT/SIGTERM
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        cluster.stop()
        click.echo("simulator stopped")


def _ready_config(cluster: Any, frozen: bool, speed: float, path: Path | None) -> None:
    from nemwatch.sim.watchconfig import watch_config_toml

    text = watch_config_toml(cluster, speed, frozen=frozen)
    if path is None:
        click.echo("a config for `nemwatch watch` (save it, or use --write-config FILE):")
        click.echo(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
    except OSError as err:
        click.echo(f"nemwatch sim: cannot write {path}: {err.strerror or err}", err=True)
        return
    click.echo(f"config written to {path}; in another terminal: nemwatch watch --config {path} --state DIR")
    sys.stdout.flush()


def _banner(cluster: Any, frozen: bool, speed: float) -> None:
    s = cluster.scenario
    click.echo(f"nemwatch sim: {s.name}: {_first_line(s.description)}")
    pace = "frozen clock (POST /_sim/advance)" if frozen else f"speed {speed:g}x"
    click.echo(f"network {s.network.value}, start {s.start.isoformat()}, one block per {s.block_interval} s, {pace}")
    for node in cluster.nodes:
        click.echo(f"node {node.index}: {node.url}")
    if cluster.market_url:
        click.echo(f"price API: {cluster.market_url} (Zaif /api/1/..., GMO /public/v1/..., "
                   "Coincheck /api/rate/..., CoinGecko /api/v3/...)")
    url = cluster.urls[0]
    click.echo("controls (per node):")
    click.echo(f"  GET    {url}/_sim/state")
    click.echo(f"  POST   {url}/_sim/advance   {{\"seconds\": 600}} | {{\"to\": \"2018-01-26T00:10:00+09:00\"}}")
    click.echo(f"  POST   {url}/_sim/fault     {{\"kind\": \"error\", \"status\": 503, \"count\": 3}}  (kinds: nemwatch sim --help)")
    click.echo(f"  DELETE {url}/_sim/fault")
    click.echo(f"  GET    {url}/_sim/requests  | GET {url}/_sim/accounts")
    click.echo("Ctrl-C stops.")
    sys.stdout.flush()  # the URLs matter to whoever reads a pipe

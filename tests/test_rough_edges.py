"""A new user's rough edges: config validate lists every problem, a bad state directory is one
line and exit 2 for every command, config show names the state directory it will use."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from nemwatch.cli import main
from nemwatch.config import load_config
from nemwatch.config.checks import advice, host_problems

ADDRESS = "NC3BI3DNMR2PGEOOMP2NKXQGSAKMS7GYRKVA5CSZ"


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_validate_lists_every_problem_unknown_key_first(tmp_path: Path) -> None:
    path = write(tmp_path, f'[network]\npoll_seconds = -1\n\n[[watch]]\nadress = "{ADDRESS}"\n')
    result = CliRunner().invoke(main, ["config", "validate", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines == [
        f"nemwatch: {path}: watch[0].adress: unknown key 'adress' (did you mean 'address'?)",
        f"nemwatch: {path}: network.poll_seconds: must be greater than 0",
        f"nemwatch: {path}: watch[0].address: required key is missing",
    ]
    assert result.stdout == ""


def test_other_commands_keep_one_line_with_the_cause_first(tmp_path: Path) -> None:
    path = write(tmp_path, f'[[watch]]\nadress = "{ADDRESS}"\n')
    result = CliRunner().invoke(main, ["check", "--config", str(path), "--state", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"nemwatch: {path}: watch[0].adress: unknown key 'adress' (did you mean 'address'?) (and 1 more problem)"
    ]


def test_missing_hook_program_is_refused(tmp_path: Path) -> None:
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\ncat >/dev/null\n")
    path = write(tmp_path, f'[alerts]\nsinks = ["stdout", "command:/no/such/hook --x", "command:{hook}"]\n')
    problems = host_problems(load_config(path))
    assert [p.where for p in problems] == ["alerts.sinks[1]", "alerts.sinks[2]"]
    assert "'/no/such/hook' does not exist" in problems[0].problem
    assert "not executable" in problems[1].problem
    result = CliRunner().invoke(main, ["config", "validate", str(path)])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 2
    hook.chmod(0o755)
    path = write(tmp_path, f'[[watch]]\naddress = "{ADDRESS}"\n[alerts]\nsinks = ["command:{hook}", "command:true"]\n')
    result = CliRunner().invoke(main, ["config", "validate", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_watch_refuses_a_missing_hook_before_starting(tmp_path: Path) -> None:
    path = write(tmp_path, f'[[watch]]\naddress = "{ADDRESS}"\n[alerts]\nsinks = ["command:/no/such/hook"]\n')
    result = CliRunner().invoke(main, ["watch", "--once", "--config", str(path), "--state", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "alerts.sinks[0]: command sink program '/no/such/hook' does not exist" in result.stderr
    assert "Traceback" not in result.output


def test_a_config_without_watched_address_warns(tmp_path: Path) -> None:
    path = write(tmp_path, "[network]\npoll_seconds = 2\n")
    assert len(advice(load_config(path))) == 1
    result = CliRunner().invoke(main, ["config", "validate", str(path)])
    assert result.exit_code == 0
    assert "no [[watch]] address" in result.stderr
    assert result.stdout.startswith("ok: ")


@pytest.mark.parametrize("argv", [["watch", "--once"], ["check"], ["price", "--once"], ["labels", "list"],
                                  ["vwap", "--from", "2018-01-26T00:00:00Z", "--to", "2018-01-26T08:00:00Z"]])
def test_a_bad_state_directory_is_one_line_and_exit_2(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "afile").write_text("not a directory")
    config = write(tmp_path, f'[[watch]]\naddress = "{ADDRESS}"\n')
    result = CliRunner().invoke(main, [*argv, "--config", str(config), "--state", str(tmp_path / "afile" / "sub")])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"nemwatch: state directory {tmp_path / 'afile' / 'sub'}: cannot create it: "
        "a part of the path is a file, not a directory"
    ]


def test_a_bad_state_dir_in_the_config_file_too(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    config = write(tmp_path, f'[state]\ndir = "afile/sub"\n[[watch]]\naddress = "{ADDRESS}"\n')
    result = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"nemwatch: state directory {tmp_path / 'afile' / 'sub'}: ")
    assert len(result.stderr.splitlines()) == 1


def test_config_show_prints_the_resolved_state_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    config = write(tmp_path, f'[[watch]]\naddress = "{ADDRESS}"\n')
    result = CliRunner().invoke(main, ["config", "show", str(config)])
    assert result.exit_code == 0, result.output
    assert tomllib.loads(result.stdout)["state"]["dir"] == str(tmp_path / "xdg" / "nemwatch")
    config = write(tmp_path, f'[state]\ndir = "here"\n[[watch]]\naddress = "{ADDRESS}"\n')
    result = CliRunner().invoke(main, ["config", "show", str(config)])
    assert tomllib.loads(result.stdout)["state"]["dir"] == str(tmp_path / "here")


def test_a_second_watcher_on_one_state_directory_is_refused(tmp_path: Path) -> None:
    from nemwatch.headless.lock import StateLock

    state = tmp_path / "s"
    state.mkdir()
    config = write(tmp_path, f'[[watch]]\naddress = "{ADDRESS}"\n')
    with StateLock(state):  # the first watcher
        assert (state / "watch.lock").read_text().strip().isdigit()
        for argv in (["watch"], ["watch", "--once"], ["check"]):
            result = CliRunner().invoke(main, [*argv, "--config", str(config), "--state", str(state)])
            assert result.exit_code == 2
            lines = result.stderr.splitlines()
            assert len(lines) == 1 and "is in use by another nemwatch watch (pid " in lines[0], result.stderr
    again = StateLock(state).acquire()  # released with the first: free again
    again.release()


def test_top_level_help_never_cuts_a_description() -> None:
    result = CliRunner().invoke(main, ["--help"], terminal_width=80)
    assert result.exit_code == 0
    commands = result.output.split("Commands:", 1)[1]
    assert "..." not in commands
    assert "2 cannot work." in " ".join(commands.split())

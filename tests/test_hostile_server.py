"""The dashboard server listens on this machine only and shows visitors no tracebacks,
both from the checkout's .streamlit/config.toml and from `longdep dashboard`."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from longdep import cli

ROOT = Path(__file__).resolve().parents[1]


def test_config_listens_on_localhost_and_hides_error_details() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["client"]["showErrorDetails"] == "none"


def test_the_values_are_ones_the_installed_streamlit_accepts() -> None:
    config = pytest.importorskip("streamlit.config")
    allowed = {o.value for o in config.ShowErrorDetailsConfigOptions}
    assert "none" in allowed
    assert cli.DASHBOARD_SERVER["client.showErrorDetails"] == "none"


def dashboard_command(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, list[str], str]:
    calls: list[list[str]] = []

    def run(*a: Any, **kw: Any) -> None:
        calls.append(list(a[-1]))  # execv(exe, cmd) and call(cmd, env=...) alike
        raise SystemExit(0)

    monkeypatch.setattr(cli.os, "execv", run)
    monkeypatch.setattr(cli.subprocess, "call", run)
    res = CliRunner().invoke(cli.main, ["dashboard", *args])
    return res.exit_code, (calls[0] if calls else []), res.output


def options(cmd: list[str], key: str) -> list[str]:
    return [a.split("=", 1)[1] for a in cmd if a.startswith(f"--{key}=")]


def test_cli_default_is_localhost_without_error_details(monkeypatch: pytest.MonkeyPatch) -> None:
    code, cmd, out = dashboard_command(monkeypatch)
    assert code == 0, out
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert options(cmd, "server.address") == ["127.0.0.1"]
    assert options(cmd, "client.showErrorDetails") == ["none"]
    assert options(cmd, "browser.gatherUsageStats") == ["false"]


def test_cli_matches_the_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    _, cmd, _ = dashboard_command(monkeypatch)
    for section, values in config.items():
        if section == "theme":
            continue
        for key, value in values.items():
            if key in ("headless", "toolbarMode"):  # --headless is a flag; the toolbar is the app's
                continue
            want = str(value).lower() if isinstance(value, bool) else str(value)
            assert options(cmd, f"{section}.{key}") == [want], f"{section}.{key}"


def test_address_and_port_options(monkeypatch: pytest.MonkeyPatch) -> None:
    code, cmd, out = dashboard_command(monkeypatch, "--address", "0.0.0.0", "--port", "8080")
    assert code == 0, out
    assert options(cmd, "server.address") == ["0.0.0.0"]
    assert options(cmd, "server.port") == ["8080"]


def test_passed_on_streamlit_options_are_not_duplicated(monkeypatch: pytest.MonkeyPatch) -> None:
    code, cmd, _ = dashboard_command(
        monkeypatch, "--server.address=10.0.0.2", "--client.showErrorDetails=type"
    )
    assert code == 0
    assert options(cmd, "server.address") == ["10.0.0.2"]
    assert options(cmd, "client.showErrorDetails") == ["type"]
    code, _, out = dashboard_command(monkeypatch, "--address", "0.0.0.0", "--server.address=::1")
    assert code == 2 and "not both" in out


def test_help_documents_address_port_and_serving_on_a_network() -> None:
    res = CliRunner().invoke(cli.main, ["dashboard", "--help"])
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    assert "--address" in text and "--port" in text
    assert "127.0.0.1" in text and "--address 0.0.0.0" in text

"""What the README shows runs as written: its Python snippets, its sweep config and its
commands."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_starts_with_the_install_and_test_commands() -> None:
    first, second = _blocks("bash")[:2]
    assert first.strip() == "pip install . && streamlit run dashboard/app.py"
    assert "pytest" in second and "cargo test" in second
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert second.strip() in ci, ".ci/run must run the README's test command as written"


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_python_snippet_runs(index: int) -> None:
    code = _blocks("python")[index]
    if re.search(r"^import torch", code, flags=re.M) and importlib.util.find_spec("torch") is None:
        pytest.skip("this snippet loads a torch module; torch is optional (pip install torch)")
    exec(compile(code, f"README.md python block {index}", "exec"), {})


def test_sweep_config_is_the_example_file() -> None:
    (block,) = _blocks("toml")
    example = (ROOT / "examples" / "radius-scan.toml").read_text(encoding="utf-8")
    assert block in example

"""``longdep train`` configs: validation with key and line, and a real short run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from longdep import trainlab

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cfg.toml"
    p.write_text(text)
    return p


def test_bad_keys_and_values_name_the_key_and_line(tmp_path: Path) -> None:
    p = _write(tmp_path, 'task = "adding"\nlength = 50\nsteps = 10\nlearning_rate = 0.1\n')
    with pytest.raises(trainlab.TrainConfigError, match=r"cfg.toml:4: learning_rate: unknown key"):
        trainlab.load_train_config(p)
    p = _write(tmp_path, 'task = "adding"\nlength = 50\nsteps = "ten"\n')
    with pytest.raises(trainlab.TrainConfigError, match=r"cfg.toml:3: steps: must be int"):
        trainlab.load_train_config(p)
    p = _write(
        tmp_path, 'task = "adding"\nlength = 50\nsteps = 5\nmodels = ["lstm", "transformer"]\n'
    )
    with pytest.raises(
        trainlab.TrainConfigError, match=r"cfg.toml:4: models: unknown model 'transformer'"
    ):
        trainlab.load_train_config(p)
    p = _write(tmp_path, 'task = "parity"\nlength = 50\nsteps = 5\n')
    with pytest.raises(trainlab.TrainConfigError, match=r"cfg.toml:1: task: task must be one of"):
        trainlab.load_train_config(p)
    p = _write(tmp_path, 'task = "adding"\nlength = 50\nsteps = 5\nclip = -1.0\n')
    with pytest.raises(trainlab.TrainConfigError, match=r"cfg.toml:4: clip"):
        trainlab.load_train_config(p)
    p = _write(tmp_path, 'task = "adding"\nlength = 50\n')
    with pytest.raises(trainlab.TrainConfigError, match=r"steps: required"):
        trainlab.load_train_config(p)


def test_example_configs_are_valid() -> None:
    for name in ("train-adding.toml", "train-quick.toml"):
        cfg = trainlab.load_train_config(EXAMPLES / name)
        assert cfg.task == "adding" and cfg.models


def test_quick_run_writes_histories_and_reduces_the_loss(tmp_path: Path) -> None:
    cfg = trainlab.load_train_config(EXAMPLES / "train-quick.toml")
    table = trainlab.run_train(cfg, tmp_path, quiet=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "gru.parquet",
        "summary.csv",
        "vanilla.parquet",
    ]
    assert list(table.model) == ["vanilla", "gru"]
    for model in ("vanilla", "gru"):
        hist = pd.read_parquet(tmp_path / f"{model}.parquet")
        assert len(hist) == cfg.steps and set(hist.model) == {model}
        assert hist.loss.iloc[-20:].mean() < hist.loss.iloc[:10].mean()
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert summary.baseline.iloc[0] == pytest.approx(1 / 6)


def test_pretraining_writes_three_runs(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        'task = "adding"\nlength = 30\nhidden = 8\nsteps = 20\npretrain_length = 10\n'
        'pretrain_steps = 20\nmodels = ["gru"]\n',
    )
    out = tmp_path / "out"
    table = trainlab.run_train(trainlab.load_train_config(p), out, quiet=True)
    assert list(table.run) == ["pretrain", "finetune", "scratch"]
    assert {f.name for f in out.iterdir()} == {
        "gru-pretrain.parquet",
        "gru-finetune.parquet",
        "gru-scratch.parquet",
        "summary.csv",
    }


def test_cli_train_runs_a_config_and_rejects_a_bad_one(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from longdep.cli import main

    runner = CliRunner()
    res = runner.invoke(
        main, ["train", str(EXAMPLES / "train-quick.toml"), "--out", str(tmp_path / "r"), "-q"]
    )
    assert res.exit_code == 0, res.output
    assert "baseline_over_final" in res.output
    assert (tmp_path / "r" / "summary.csv").is_file()
    bad = _write(tmp_path, 'task = "adding"\nlength = 5\nsteps = 1\nfoo = 1\n')
    res = runner.invoke(main, ["train", str(bad), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2
    assert "cfg.toml:4: foo: unknown key" in res.output
    assert not (tmp_path / "x").exists()

"""A training stopped between epochs (the machine switched off) carries on where it stopped, to the same weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from feedbackbot.nlp.data import Example
from feedbackbot.nlp.train import TrainConfig, checkpoint_file, fit_encoder, make_splits

ROOT = Path(__file__).resolve().parents[2]


class Stopped(Exception):
    """Stands for the process being killed after an epoch."""


def _small(tmp_path: Path) -> tuple[TrainConfig, list[Example]]:
    config = TrainConfig(corpus=ROOT / "data" / "corpus", split_dir=ROOT / "data" / "split", cache_dir=tmp_path,
                         epochs=2, batch_size=4, adapted_layers=1, max_tokens=24)
    return config, make_splits(config, lambda _: None, record=False).train[:8]


def _stop_after_first_epoch(line: str) -> None:
    if line.startswith("epoch 1/2"):
        raise Stopped


def test_a_stopped_training_resumes_after_its_last_epoch_with_the_same_weights(tmp_path: Path) -> None:
    config, fit = _small(tmp_path)
    whole = fit_encoder(config, fit, lambda _: None)
    checkpoint = checkpoint_file(config, "fold-0")
    with pytest.raises(Stopped):
        fit_encoder(config, fit, _stop_after_first_epoch, checkpoint, "fp-1")
    assert checkpoint.is_file()

    lines: list[str] = []
    resumed = fit_encoder(config, fit, lines.append, checkpoint, "fp-1")
    assert lines[0] == f"resuming after epoch 1/2 from {checkpoint}"
    assert [line.split(":")[0] for line in lines[1:]] == ["epoch 2/2"]  # the first epoch is not run again
    assert whole.keys() == resumed.keys()
    assert all(np.array_equal(whole[k], resumed[k]) for k in whole), "resuming changed the weights"


def test_a_checkpoint_from_other_data_or_recipe_is_not_used(tmp_path: Path) -> None:
    config, fit = _small(tmp_path)
    checkpoint = checkpoint_file(config, "final")
    with pytest.raises(Stopped):
        fit_encoder(config, fit, _stop_after_first_epoch, checkpoint, "old-fingerprint")
    lines: list[str] = []
    fit_encoder(config, fit, lines.append, checkpoint, "new-fingerprint")
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]  # started again from the first epoch

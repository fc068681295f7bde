"""The classifier service reads replies that arrive together in one batch, each answer going to its own reply."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence

import pytest

from feedbackbot.nlp import KeywordClassifier
from feedbackbot.nlp.types import Classification
from feedbackbot.settings import SettingsError, load_settings
from feedbackbot.workers.classification import BATCH, ClassifierService


class CountingClassifier(KeywordClassifier):
    """The keyword stand-in, remembering the size of every batch it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        self.batches.append(len(texts))
        return super().classify(texts)


TEXTS = ["he is outside now", "nobody called me back", "the officer was brilliant", "I want to end it all",
         "please call me", "fine"]


async def test_replies_waiting_together_are_read_in_one_batch_and_answered_in_order() -> None:
    model = CountingClassifier()
    service = ClassifierService(lambda: model)
    await service.start()
    try:
        readings = await asyncio.gather(*(service.classify(text) for text in TEXTS))
    finally:
        service.stop()
    assert model.batches == [len(TEXTS)]
    assert [r.risk for r in readings] == [r.risk for r in KeywordClassifier().classify(TEXTS)]
    assert readings[0].risk == "urgent" and readings[3].risk == "urgent" and readings[1].risk == "none"


async def test_a_flood_of_replies_is_read_in_batches_of_at_most_BATCH() -> None:
    model = CountingClassifier()
    service = ClassifierService(lambda: model)
    await service.start()
    try:
        readings = await asyncio.gather(*(service.classify(f"reply number {n}") for n in range(BATCH * 2 + 3)))
    finally:
        service.stop()
    assert len(readings) == BATCH * 2 + 3
    assert model.batches == [BATCH, BATCH, 3]


async def test_in_a_process_of_its_own_the_classifier_reads_the_same_and_the_server_does_not_load_it() -> None:
    service = ClassifierService(KeywordClassifier, separate_process=True)
    await service.start()
    try:
        readings = await asyncio.gather(*(service.classify(text) for text in TEXTS))
    finally:
        service.stop()
    assert service._classifier is None  # loaded in the classifier's process, not in this one
    assert [r.to_json() for r in readings] == [r.to_json() for r in KeywordClassifier().classify(TEXTS)]
    assert readings[0].risk == "urgent" and readings[0].model_version == KeywordClassifier().model_version


SERVER_KILLED_OUTRIGHT = """
import asyncio, multiprocessing, os, sys
from feedbackbot.nlp import KeywordClassifier
from feedbackbot.workers.classification import ClassifierService

async def main() -> None:
    service = ClassifierService(KeywordClassifier, separate_process=True, niceness=5)
    await service.start()
    (child,) = multiprocessing.active_children()
    print(child.pid, os.getpriority(os.PRIO_PROCESS, child.pid), flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def _running(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_the_classifier_process_runs_at_lower_priority_and_ends_when_its_server_is_killed_outright() -> None:
    server = await asyncio.create_subprocess_exec(sys.executable, "-c", SERVER_KILLED_OUTRIGHT,
                                                  stdout=asyncio.subprocess.PIPE)
    assert server.stdout is not None
    child, niceness = map(int, (await asyncio.wait_for(server.stdout.readline(), 60)).split())
    assert niceness == os.getpriority(os.PRIO_PROCESS, 0) + 5  # acknowledgements win a busy CPU
    server.kill()  # SIGKILL: no chance to shut the pool down
    await server.wait()
    for _ in range(300):  # the watcher looks once a second
        if not _running(child):
            break
        await asyncio.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError("the classifier process outlived its server")


def test_a_classifier_niceness_outside_0_to_19_is_refused_naming_the_variable() -> None:
    assert load_settings({"FEEDBACKBOT_CLASSIFIER_NICENESS": "19"}).classifier_niceness == 19
    for raw in ("-5", "20", "low"):
        with pytest.raises(SettingsError, match="FEEDBACKBOT_CLASSIFIER_NICENESS must be a whole number from 0 to 19"):
            load_settings({"FEEDBACKBOT_CLASSIFIER_NICENESS": raw})

"""The examples in the nlp modules' docstrings run and give what they say (the model's need the model)."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from feedbackbot.nlp import gloss, keyword, language, lexical, safety, taxonomy


@pytest.mark.parametrize("module", [gloss, keyword, language, lexical, safety, taxonomy], ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0

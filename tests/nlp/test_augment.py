"""Buried-risk augmentation: which urgent replies are buried, behind what, and that the draw is reproducible."""

from __future__ import annotations

from pathlib import Path

from feedbackbot.nlp.augment import MIN_PARTNER_WORDS, buried_pairs, buried_text, partners_by_language
from feedbackbot.nlp.data import Example
from feedbackbot.nlp.folds import fingerprint
from feedbackbot.nlp.language import detect_language
from feedbackbot.nlp.train import TrainConfig, make_splits

ROOT = Path(__file__).resolve().parents[2]


def _reply(i: int, text: str, risk: str = "none", language: str = "en") -> Example:
    cats = ("self_harm",) if risk == "urgent" else ("ongoing_abuse",) if risk == "safeguarding" else ()
    return Example(f"t-{i}", text, (), "negative", risk, cats, (), language, "after_attendance")


def _training_replies() -> list[Example]:
    config = TrainConfig(corpus=ROOT / "data" / "corpus", split_dir=ROOT / "data" / "split")
    return make_splits(config, lambda _: None, record=False).train


def test_only_urgent_replies_are_buried_and_only_behind_ordinary_feedback_in_their_own_language() -> None:
    train = _training_replies()
    langs = [detect_language(e.text) for e in train]
    pairs = buried_pairs(train, langs, 0.5, seed=7)
    urgent = [i for i, e in enumerate(train) if e.risk == "urgent"]
    assert 0.35 * len(urgent) < len(pairs) < 0.65 * len(urgent)
    for i, j in pairs.items():
        assert train[i].risk == "urgent"
        assert train[j].risk == "none" and len(train[j].text.split()) >= MIN_PARTNER_WORDS
        assert langs[i] == langs[j]


def test_the_draw_depends_only_on_the_seed() -> None:
    train = _training_replies()
    langs = [detect_language(e.text) for e in train]
    assert buried_pairs(train, langs, 0.5, seed=3) == buried_pairs(list(train), list(langs), 0.5, seed=3)
    assert buried_pairs(train, langs, 0.5, seed=3) != buried_pairs(train, langs, 0.5, seed=4)
    assert buried_pairs(train, langs, 0.0, seed=3) == {}


def test_a_one_word_thanks_buries_nothing_and_a_language_without_partners_is_left_alone() -> None:
    replies = [_reply(0, "thanks"), _reply(1, "I can't do this any more, the tablets are ready", "urgent"),
               _reply(2, "dziękuję bardzo za wszystko, pani policjantka była bardzo miła", language="pl"),
               _reply(3, "nie chcę już żyć", "urgent", language="pl")]
    langs = [e.language for e in replies]
    assert partners_by_language(replies, langs) == {"pl": [2]}
    assert buried_pairs(replies, langs, 1.0, seed=0) == {3: 2}


def test_the_urgent_words_come_after_the_feedback() -> None:
    text = buried_text("The officer was kind but nobody rang me back for weeks. ", " I've saved my tablets.")
    assert text == "The officer was kind but nobody rang me back for weeks. I've saved my tablets."


def test_the_share_is_part_of_the_recipe_so_a_change_retrains() -> None:
    train = _training_replies()[:50]
    folds = {e.id: i % 2 for i, e in enumerate(train)}
    assert TrainConfig().buried_risk == 0.0  # tried in round 8 and left off (docs/classifier.md)
    assert (fingerprint(TrainConfig().recipe(), train, folds)
            != fingerprint(TrainConfig(buried_risk=0.5).recipe(), train, folds))

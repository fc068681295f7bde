"""The deterministic language detector: scripts, Roman-script Urdu and Punjabi, Polish, Romanian."""

from __future__ import annotations

import pytest

from feedbackbot.nlp.language import detect_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("great job, 3 weeks and not one call", "en"),
        ("ok", "en"),
        ("thanks x", "en"),
        ("3", "en"),
        ("mera case abhi tak band nahi hua, koi update nahi mili", "ur"),
        ("officer bahut acha tha, shukriya", "ur"),
        ("menu koi update nahi mili, tusi kithe ho?", "pa"),
        ("Nikt do mnie nie zadzwonił od miesiąca", "pl"),
        ("nikt do mnie nie dzwonil, jestem bardzo zla", "pl"),
        ("Nu m-a sunat nimeni de la poliție", "ro"),
        ("nu m-a sunat nimeni, multumesc pentru nimic", "ro"),
        ("পুলিশ আমাকে কিছুই জানায়নি", "bn"),
        ("ami kichu jani na, keu amake phone kore nai", "bn"),
        ("لم يتصل بي أحد من الشرطة", "ar"),
        ("پولیس نے مجھے کوئی اطلاع نہیں دی", "ur"),
        ("ਮੈਨੂੰ ਕੋਈ ਖ਼ਬਰ ਨਹੀਂ ਮਿਲੀ", "pa"),
    ],
)
def test_detects(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_glosses_give_the_english_encoder_key_words() -> None:
    from feedbackbot.nlp.gloss import encoder_text, glosses

    assert "complaint" in glosses("vreau să fac o plângere", "ro")
    assert "interpreter" in glosses("nie było tłumacza w sądzie", "pl")
    assert "court" in glosses("nie było tłumacza w sądzie", "pl")
    assert "no further action" in glosses("nfa likh diya, case band", "ur")
    assert "thank you" in glosses("ধন্যবাদ", "bn")
    assert "complaint" in glosses("بدي اشتكي على الشرطي", "ar")
    # Where he is and when: the words that tell danger now from a complaint (2026.11.6).
    assert {"is standing", "again"} <= set(glosses("stoi znowu pod blokiem", "pl"))
    assert {"standing", "tonight"} <= set(glosses("واقف قدام البيت الليلة", "ar"))
    assert "knocking at the door" in glosses("bate la ușă de o oră", "ro")
    assert {"standing", "at night"} <= set(glosses("raat ko gate pe khara hai", "ur"))
    assert encoder_text("nobody called me back", "en") == "nobody called me back"
    assert encoder_text("dziękuję bardzo", "pl").startswith("dziękuję bardzo (in English: thank you")

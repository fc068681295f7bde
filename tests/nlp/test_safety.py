"""The safety net: danger and self-harm in every community language, negation, past versus present, idioms."""

from __future__ import annotations

import pytest

from feedbackbot.nlp.safety import RULES, apply_safety_net, fold, scan


def level(text: str) -> str:
    return apply_safety_net("none", (), scan(text))[0]


def categories(text: str) -> set[str]:
    return {c.category for c in scan(text)}


URGENT_DANGER = [
    # English
    "he's outside now banging on the door",
    "HE IS AT MY DOOR RIGHT NOW",
    "hes back. drunk. smashing things downstairs",
    "he's kicking the door in now im in the bathroom with the baby",
    "My ex has just turned up with a knife",
    "he says he's going to kill me tonight",
    "someone is following me right now",
    "he won't let me leave the flat",
    "they're throwing bricks at the windows right now",
    # Roman Urdu
    "woh abhi ghar ke bahar khara hai, please jaldi aao",
    "mera ex darwaza peet raha hai",
    "usne kaha woh mujhe jaan se maar dega",
    # Roman Punjabi
    "oh hun ghar de bahar khada hai",
    "ohne keha main tainu maar deyu",
    # Polish
    "On teraz stoi pod drzwiami i wali w drzwi",
    "Powiedział, że mnie zabije",
    # Romanian
    "Acum e la ușa mea și bate în ușă",
    "A zis că o să mă omoare",
    # Bengali
    "সে এখন বাড়ির বাইরে দাঁড়িয়ে আছে",
    "ও বলেছে আমাকে মেরে ফেলবে",
    # Arabic
    "هو الآن خارج البيت ويطرق الباب",
    "هددني بالقتل",
]

URGENT_SELF_HARM = [
    # English
    "I want to end it all",
    "I'm going to kill myself",
    "honestly i dont want to be here anymore",
    "everyone would be better off without me",
    "Ive got the pills lined up",
    "I can't go on like this",
    # Roman Urdu
    "main khudkushi kar lungi",
    "mera jeena nahi chahta, main mar jana chahti hoon",
    # Roman Punjabi
    "main mar jana chahndi aan",
    # Polish
    "Nie chcę już żyć",
    "myślę o samobójstwie",
    # Romanian
    "Nu mai vreau să trăiesc",
    "mă gândesc să mă sinucid",
    # Bengali
    "আমি আর বাঁচতে চাই না",
    "আত্মহত্যা করব",
    # Arabic
    "لا أريد أن أعيش",
    "أفكر في الانتحار",
]

SAFEGUARDING = [
    ("he keeps texting me from new numbers", "ongoing_abuse"),
    ("He's breaching his bail, he walked past my house twice", "ongoing_abuse"),
    ("I don't feel safe in my own home", "ongoing_abuse"),
    ("he still has the kids at weekends and he's drinking again", "child_or_vulnerable_at_risk"),
    ("wo baar baar phone kar raha hai aur dhamkiyan de raha hai", "ongoing_abuse"),
    ("ciągle do mnie dzwoni i grozi", "ongoing_abuse"),
    ("mă amenință în continuare", "ongoing_abuse"),
    ("সে আমাকে হুমকি দিচ্ছে", "ongoing_abuse"),
    ("يلاحقني كل يوم", "ongoing_abuse"),
]


@pytest.mark.parametrize("text", URGENT_DANGER)
def test_danger_now_is_urgent(text: str) -> None:
    assert level(text) == "urgent"
    assert "immediate_danger" in categories(text)


@pytest.mark.parametrize("text", URGENT_SELF_HARM)
def test_self_harm_is_urgent(text: str) -> None:
    assert level(text) == "urgent"
    assert "self_harm" in categories(text)


@pytest.mark.parametrize(("text", "category"), SAFEGUARDING)
def test_safeguarding(text: str, category: str) -> None:
    assert level(text) in {"safeguarding", "urgent"}
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "the 101 wait nearly killed me lol",
        "this wait is killing me",
        "my boss will kill me if I miss another day for court",
        "I was dying to know what happened at court",
        "I'd rather die than sit through another adjournment lol",
        "the officer was lovely, thank you",
        "ok",
        "3",
        "Nobody has called me back for three weeks",
        "I was trying to get in touch with the officer for days",
    ],
)
def test_not_risk(text: str) -> None:
    assert scan(text) == ()


@pytest.mark.parametrize(
    ("past", "present"),
    [
        ("he used to turn up outside my house", "he's outside my house now"),
        ("he used to keep texting me but that stopped last year", "he keeps texting me again"),
        ("years ago he was banging on my door every night", "he's banging on my door"),
    ],
)
def test_past_is_not_present(past: str, present: str) -> None:
    assert level(past) == "none"
    assert level(present) != "none"


@pytest.mark.parametrize(
    "text",
    [
        "I don't feel unsafe any more",
        "I no longer feel scared",
        "he doesn't keep calling me now",
    ],
)
def test_negation_vetoes(text: str) -> None:
    assert level(text) == "none"


def test_negation_does_not_hide_danger_in_the_next_clause() -> None:
    assert level("I don't feel unsafe any more. But he's outside now") == "urgent"
    assert level("he used to turn up but now he's outside again") == "urgent"


def test_negative_phrasing_of_risk_still_fires() -> None:
    assert level("I don't feel safe anymore") == "safeguarding"
    assert level("I don't want to live any more") == "urgent"


def test_habitual_presence_is_safeguarding_not_urgent() -> None:
    cues = scan("He's at my door every night")
    assert cues and all(c.level == "safeguarding" for c in cues)


def test_cue_records_rule_and_span() -> None:
    text = "Thanks for calling. He's outside now."
    cue = scan(text)[0]
    assert cue.rule.startswith("en.")
    assert cue.level == "urgent"
    assert text[cue.span[0] : cue.span[1]] == cue.text
    assert "outside" in cue.text


def test_span_maps_back_through_folding() -> None:
    text = "Boję się, ciągle do mnie dzwoni"
    for cue in scan(text):
        assert text[cue.span[0] : cue.span[1]] == cue.text


def test_net_never_lowers() -> None:
    assert apply_safety_net("urgent", ("self_harm",), ()) == ("urgent", ("self_harm",))
    raised = apply_safety_net("safeguarding", ("ongoing_abuse",), scan("he's outside now"))
    assert raised[0] == "urgent"
    assert set(raised[1]) == {"ongoing_abuse", "immediate_danger"}
    assert apply_safety_net("urgent", ("immediate_danger",), scan("he keeps texting me"))[0] == "urgent"


def test_fold_strips_accents_and_keeps_index() -> None:
    folded, index = fold("Mă AMENINȚĂ")
    assert folded == "ma ameninta"
    assert len(index) == len(folded)


def test_every_rule_language_is_known() -> None:
    assert {r.language for r in RULES} == {"en", "ur", "pa", "pl", "ro", "bn", "ar"}
    assert len({r.id for r in RULES}) == len(RULES)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("mam w szafce tabletki i myślę o tym", "pl"),
        ("m-am gândit la pastile toată noaptea", "ro"),
        ("bas ma bdi 3ish, baddi moot", "ar"),
    ],
)
def test_broad_word_lists_run_in_their_own_language(text: str, language: str) -> None:
    cues = scan(text, language=language)
    assert any(c.category == "self_harm" for c in cues)


def test_broad_word_lists_stay_out_of_other_languages() -> None:
    # "lama" is a razor blade in Romanian but a llama in Polish; "বিষয়" (a matter) is not "বিষ" (poison).
    assert not [c for c in scan("lama jest w zoo", language="pl") if c.rule == "ro.self_harm_words"]
    assert scan("অফিসার বলল এটা ছোট বিষয়", language="bn") == ()


# Everyday ways to say danger now or self-harm in each community language (the v2 cues), written
# from the languages rather than from corpus replies, and the vetoes that still hold over them.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("woh mujhe maar raha hai, please", "immediate_danger"),
        ("police bhejo jaldi, woh andar hai", "immediate_danger"),
        ("main almari mein chhupi hui hun", "immediate_danger"),
        ("oh mainu kutt reha, chheti aao", "immediate_danger"),
        ("bije mnie, przyślijcie kogoś", "immediate_danger"),
        ("stoi pod oknem z kolegami", "immediate_danger"),
        ("mă bate, trimiteți pe cineva", "immediate_danger"),
        ("zice că îmi dă foc la casă", "immediate_danger"),
        ("عم يضرب الولاد، ابعتوا حدا", "immediate_danger"),
        ("amake marche, police pathan", "immediate_danger"),
        ("আমাকে মারছে, পুলিশ পাঠান", "immediate_danger"),
        ("zindagi se thak gayi hun, sab goliyan ek saath le lun", "self_harm"),
        ("chcę zniknąć na zawsze", "self_harm"),
        ("toți ar fi mai bine fără mine", "self_harm"),
        ("ما عاد فيني كمّل", "self_harm"),
        ("oshudh gula eksathe kheye feli", "self_harm"),
        ("he keeps making new accounts to message me", "ongoing_abuse"),
    ],
)
def test_everyday_danger_and_self_harm_in_each_language(text: str, category: str) -> None:
    assert category in categories(text)
    assert level(text) == ("safeguarding" if category == "ongoing_abuse" else "urgent")


V2_NOT_URGENT: list[str] = [
    "nie boję się już wychodzić z domu",  # negated: "I'm not afraid any more"
    "كان يضربني قبل سنتين، والحمدلله خلصت",  # past: "he used to hit me two years ago"
    "pichle saal woh mujhe maar raha tha, ab jail mein hai",  # past, Urdu/Punjabi markers shared
]


@pytest.mark.parametrize(
    ("over", "again"),
    [
        ("he used to stand outside my house, now he's in prison",
         "he used to stand outside my house, now he's outside again"),
        ("anul trecut stătea la ușa mea nopți întregi, acum e în închisoare",  # "last year ... now he's in prison"
         "anul trecut stătea la ușa mea, acum e iar la ușă"),  # "... now he's at the door again"
        ("আগে ও রাতে দরজায় এসে চিৎকার করত, এখন জেলে",  # "he used to shout at my door, now he's in jail"
         "আগে ও রাতে দরজায় এসে চিৎকার করত, এখন আবার দরজায়"),  # "... now he's at the door again"
    ],
)
def test_now_in_prison_keeps_the_past_veto(over: str, again: str) -> None:
    assert level(over) == "none"
    assert level(again) != "none"


# The v3 cues: "now" words of each dialect with where he is, being locked in or hiding, and the
# indirect ways of saying "I can't go on" (phrased here, not copied from corpus replies).
V3_URGENT: list[tuple[str, str]] = [
    ("właśnie jest na klatce i krzyczy", "immediate_danger"),  # "he's on the stairwell right now"
    ("zamknął mnie w pokoju i zabrał mi telefon", "immediate_danger"),  # locked in, phone taken
    ("acum e afară la mașină, mă tot sună", "immediate_danger"),  # "now he's outside by the car"
    ("suntem încuiate în baie, a spart ușa", "immediate_danger"),  # "we're locked in the bathroom"
    ("دابا واقف قدام الدار", "immediate_danger"),  # Moroccan: "he's standing in front of the house now"
    ("انا مخبية بالمطبخ، كسر الباب", "immediate_danger"),  # "I'm hiding in the kitchen, he broke the door"
    ("woh is waqt gate ke bahar khara hai", "immediate_danger"),  # "he's standing outside the gate right now"
    ("oh khidki ton andar aa gaya", "immediate_danger"),  # "he came in through the window"
    ("o ekhon amar barir dorjay dhakka dicche", "immediate_danger"),  # "he's at my door now, shoving"
    ("he just texted he's 5 minutes away", "immediate_danger"),
    ("nie widzę wyjścia z tego wszystkiego", "self_harm"),  # "I see no way out"
    ("nu mai văd niciun rost", "self_harm"),  # "I see no point any more"
    ("تعبت من الحياة، ما عاد بدي عيش", "self_harm"),  # "I'm tired of life, I don't want to live"
    ("Allah mujhe utha le, bas", "self_harm"),  # "may God take me"
    ("ami ar thakbo na, maaf korben", "self_harm"),  # "I won't be here any more"
]


V3_NOT_URGENT: list[str] = [
    "nu mai pot să aștept atâtea luni după o veste",  # "I can't wait months for news any more": a complaint
    "عنده سيارة تانية، ممكن مخبي الأغراض فيها",  # "he might be hiding the stuff in his other car"
    "pehle woh ghar ke andar aa gaya tha, ab jail mein hai",  # past: "he got in before, now he's in jail"
    "nie jest już pod moim domem, wyprowadził się",  # negated: "he's no longer outside my house"
]


# The v4 cues (round 6): pills just taken, "may God take me", "I won't be here by tomorrow", locked in
# with him there, a drunk man driving off with the children — in my own words, one per language.
V4_URGENT: list[tuple[str, str]] = [
    ("he's put the kids in the car and he's been drinking since lunch", "immediate_danger"),
    ("I keep wishing I just wouldn't wake up", "self_harm"),
    ("wzięłam pół opakowania tabletek na sen", "self_harm"),  # "I took half a packet of sleeping pills"
    ("ne-am încuiat în dormitor, nu ne lasă să ieșim", "immediate_danger"),  # "we've locked ourselves in"
    ("nu mai pot. iertați-mă", "self_harm"),  # "I can't go on. forgive me"
    ("حاسة الموت ارحم من هيك عيشة", "self_harm"),  # "death feels kinder than this life"
    ("dakhilkum, howa fel salon", "immediate_danger"),  # "I beg you, he's in the living room"
    ("kal subah tak main nahi rahungi", "self_harm"),  # "by tomorrow morning I won't be here"
    ("usne kaha aaj tera aakhri din hai", "immediate_danger"),  # "he said today is your last day"
    ("keu pathan please, o darjar baire", "immediate_danger"),  # "send someone, he's outside the door"
]


V4_NOT_URGENT: list[str] = [
    "the call handler kept me calm while he was banging on the door, please thank her",  # over, and thanks
    "I didn't wake up until 9 so I missed the officer's call",  # waking late is not a wish not to wake
    "vecinul care mi-a spart geamul a pus poza mea pe Facebook",  # "the neighbour who smashed my window"
    "তারা রোজ লিফটের সামনে দাঁড়িয়ে থাকে, কিছু বলে না",  # habitual: "they stand by the lift every day"
    "আমি কেসটা তুলে নিতে চাই, এত মাস ধরে দৌড়াদৌড়ি আর পারছি না",  # "I can't keep running around": withdrawal
    "تواصلوا معي بعد يومين وساعدوني أغيّر الأقفال",  # "they helped me change the locks"
]


# The v5 cues (round 9's training replies): "your last day" threats, standing across the road, a door
# knocked at for half an hour, blades collected, goodbyes to family, "I'm on the bridge", the rope ready
# — again in my own words, one or two per language; then v6's (round 13).
V5_V6_URGENT: list[tuple[str, str]] = [
    ("just got a text off a withheld number saying your last day tonight", "immediate_danger"),
    ("they're standing across the road from my flat watching the window", "immediate_danger"),
    ("someone has been banging on my door for the last twenty minutes", "immediate_danger"),
    ("I've been saving up razor blades in my drawer", "self_harm"),
    ("please tell my son it wasn't his fault", "self_harm"),
    ("don't know how much longer I'll be around tbh", "self_harm"),
    ("dostałam sms: to twój ostatni dzień", "immediate_danger"),  # "this is your last day"
    ("zostawiam wszystko siostrze, jak mnie już nie będzie", "self_harm"),  # "when I'm gone"
    ("sunt pe podul mare, spuneți-i fiicei mele că o iubesc", "self_harm"),  # "I'm on the bridge"
    ("a venit cu cuțitul, e pe scări acum", "immediate_danger"),  # "he's on the stairs now"
    ("كتبلي اليوم آخر يوم إلك", "immediate_danger"),  # "he wrote: today is your last day"
    ("جهزت الحبل وخلصت", "self_harm"),  # "I've got the rope ready, I'm done"
    ("waheguru menu chakk lai, bas", "self_harm"),  # "Waheguru take me, enough"
    ("amar meye school se ghar nahi aya abhi tak", "immediate_danger"),  # code-switched: not home from school
    ("ami ar ei jibon rakhbo na", "self_harm"),  # "I won't keep this life any more"
    ("o likhse ami tor bashar samne", "immediate_danger"),  # "he wrote: I'm in front of your house"
    # v6 (round 13: the round-10 and round-12 writers' training replies), again in my own words.
    ("ona tu jest!!", "immediate_danger"),  # "she's here"
    ("słyszę go. Jest w moim mieszkaniu", "immediate_danger"),  # "I can hear him. He's in my flat"
    ("ktoś próbuje otworzyć drzwi, boję się", "immediate_danger"),  # "someone's trying to open the door"
    ("o ghore dhuke geche", "immediate_danger"),  # "he's got into the room"
    ("ও আসছে। কী করব", "immediate_danger"),  # "he's coming. what do I do"
    ("khalas, aseeb el donia di", "self_harm"),  # "enough, I'll leave this world"
    ("ma 3ad bade kun 3eb2 3a 7ada", "self_harm"),  # "I don't want to be a burden on anyone any more"
    ("ma ke bolben, ami to thakbo na", "self_harm"),  # "tell mum, I won't be here anyway"
    ("bima r kagoj drawer e rekhe jacchi", "self_harm"),  # "I'm leaving the insurance papers in the drawer"
]


V5_V6_NOT_URGENT: list[str] = [
    "on my last day at work the officer rang, very kind",  # "my last day" is not a threat
    "your last day in the job was my first contact with the police, funny that",
    "we saved all the receipts for the tablets he broke",  # a tablet computer, receipts saved
    "jak mnie nie będzie w domu, proszę zostawić kartkę",  # "when I'm not at home, leave a note"
    "nu pot să ies din casă până nu vine lăcătușul, e ok",  # "can't go out till the locksmith comes"
    "on tu jest od lat, to mój sąsiad z dołu",  # "he's been here for years, my neighbour downstairs"
    "córka jest w mieszkaniu sama po szkole, proszę dzwonić wieczorem",  # a daughter home alone, calls later
    "ammu o ashtese kal, amar sathe thakbe",  # "mum is also coming tomorrow, she'll stay with me"
    "insurance er kagoj thanay jama dilam",  # "I handed the insurance papers in at the station"
    "kont 3ayez amshy men el bet da",  # "I wanted to move out of this house"
]


# One test over every rule set's cases (v3 to v6), and one over every rule set's vetoes (v2 to v6).
@pytest.mark.parametrize(("text", "category"), [*V3_URGENT, *V4_URGENT, *V5_V6_URGENT])
def test_later_rule_sets_flag_danger_now_and_self_harm(text: str, category: str) -> None:
    assert category in categories(text)
    assert level(text) == "urgent"


@pytest.mark.parametrize("text", [*V2_NOT_URGENT, *V3_NOT_URGENT, *V4_NOT_URGENT, *V5_V6_NOT_URGENT])
def test_later_rule_sets_keep_the_vetoes(text: str) -> None:
    assert level(text) != "urgent"

"""A light, deterministic language detector: Unicode script ranges first, then word lists for Latin script."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

#: Language codes the detector returns. Roman-script Urdu and Punjabi are tagged ``ur`` and
#: ``pa`` like their native scripts. A reply with no words (a digit, an emoji) counts as English,
#: the survey's own language, so it is not queued for a person to read.
LANGUAGES: tuple[str, ...] = ("en", "ur", "pa", "pl", "bn", "ar", "ro")

LANGUAGE_NAMES: Mapping[str, str] = {
    "en": "English",
    "ur": "Urdu",
    "pa": "Punjabi",
    "pl": "Polish",
    "bn": "Bengali",
    "ar": "Arabic",
    "ro": "Romanian",
}

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
_WORD_OR_ARABIZI = re.compile(r"[a-z0-9']+")

# Letters used by Urdu (and Shahmukhi Punjabi) but not by Arabic.
_URDU_LETTERS = frozenset("ٹڈڑںےۓھگپچژکیۂ")
_PUNJABI_SHAHMUKHI_WORDS = frozenset({"نوں", "وچ", "اے", "سی", "تسی", "مینوں", "ساڈا", "تہاڈا", "کتھے"})

# Diacritics that only one of the Latin-script languages uses.
_POLISH_LETTERS = frozenset("ąćęłńśźżĄĆĘŁŃŚŹŻ")
_ROMANIAN_LETTERS = frozenset("ăâîșşțţĂÂÎȘŞȚŢ")

# Function words and very common words, chosen to be rare in English text. A word that is also
# an English word ("to", "do", "main", "ban") is left out of the other lists.
_WORDS: Mapping[str, frozenset[str]] = {
    "en": frozenset(
        """the and is was are were i i'm im me my you your he she his her they them their it it's its
        of to in on at for with from by this that not no yes but have has had been be will would
        can can't cant could should don't dont didn't didnt won't wont just about what when who
        officer police call called thanks thank thankyou ok okay very really still never because
        we us our got get any there here out now again told said did do does am an a so all one
        after before if or than then into been being felt feel help nobody someone anyone""".split()
    ),
    "ur": frozenset(
        """hai hain hay hy mera meri mere mujhe mujhay mujh nahi nahin nai nhi kya kyun kyon aur
        ka ko se tha thi thay bohat bahut bohot abhi woh wo yeh ye kar karo raha rahi rahe
        hum ham aap ap apna apni apne shukriya gaya gayi gai koi kuch saath sath kal aaj bhi lekin
        magar agar jab phir dobara bachay bachon bacha bachi darr lagta lagti hoon hun hu kisi sab
        acha accha theek thik jaldi karein karain chahiye chahta chahti wala wali walay yahan wahan
        ghar pe par kyunke kyunki kabhi aya aaya ayi aayi diya dia liya kaha kehta kehti mein mai
        ji jee hua hui huay band tak mili mila milay""".split()
    ),
    "pa": frozenset(
        """menu mainu mennu tuhanu tusi tussi assi asi sanu saanu kithe kithay vich wich ohne ohnu
        onu ehnu ae hega haiga kuj kujh sadda sada tuhada tuhadi saddi changa kiven kive kidda
        kiddan gal gall pata hunn reha rehi nahi nai ji veer paaji bhaji bhenji bacheyan bachiyan
        darda dardi lagda lagdi aaunda aunda aundi karda kardi karo dasso dassya hoya hoyi naal nal kol
        ton haan kita kiti kiha keha dasya dassna lainda jande jandi janda vaar vari fer pher hor ik
        ikk kade kadi jado othe ethe ohna ehna ohde ehde tenu saade sadde vadia bande kudi munda bache
        ditta ditti ditte likheya rakheya samjheya paindi lagg peya chalegi sakdi sakda deyo labh""".split()
    ),
    "pl": frozenset(
        """nie się sie jest że ze jak ale co mnie mi mój moj moja moje policja policji policjant
        dziękuję dziekuje dzięki dzieki bardzo już juz jestem był byl była byla tak czy nikt nic
        przez ktoś ktos sprawa sprawy sprawie proszę prosze mam dzieci dziecko boję boje teraz
        jeszcze żeby zeby kiedy pan pani zadzwonić zadzwonic dzwonić dzwonic tylko został zostal
        bylo było jego jej mojego są sa mieszkanie domu dom pod drzwiami dzwonil dzwonila
        zadzwonil zadnej zadnego telefonu telefon wszystko porzadku dzis dzisiaj codziennie pisze
        mieszkasz wiem gdzie bo mu ich mial miala swietna robota ani jednego tygodni godzin przyjechali
        wyslalam maile odpowiedzi skarge chce chcialabym wycofuje wypiszcie tych moze tam rzeczy
        samochod drugi przypomnialam sobie corki znowu zabrali pieniadze krzyczeli mowicie dowodow
        przestepstwo kaucji ostatnio matka przyszla pracy powiedziala tabletki wszystkie chyba
        wczoraj godzine mediacje chlopak niech przeprosi zla zly sasiad sąsiad siekiera siekierą klatce
        dzwonie dzwonię czekam sily siły walczyc walczyć sadzie sądzie umieram nudow nudów linii muzyczki""".split()
    ),
    "ro": frozenset(
        """nu și si este sunt mă ma că ca poliția politia poliţia politie mulțumesc multumesc
        foarte ce care acum vă va rog nimeni fost mea meu copilul copiii copii casă casa frică
        frica sună suna aici pentru dar încă inca niciun nicio cineva mai iar el ea eu mi-a m-a
        nimic ușa usa afară afara după dupa despre sunați sunati vreau poate sa sa-mi mi-au l-am
        i-am ne-au la pe cu din un ai lui ei lor daca cand unde cum cine vrea zice zis ora
        saptamana saptamani noaptea seara dimineata bine totul merge incet asteptat asteptarea
        muzica politistul politistii interpretul tribunal tribunalul plangere plangerea reclamatie
        formularul completat masina geamul baiatul parintii platit plateasca verifica lire primit
        trimis asigurari merci patronul magazinul numarul langa bloc restrictie vazut poze biserica
        spate uita filmat ieri fel sunteti minunati dumnezeu scos mancare aflat sentinta romani
        referinta imediat fara tinut venit doua zi vada nevoie meritat ajutat sunat imi îmi trimite mesaje
        numere noi fiecare noapte desi deși interdictie interdicție capturi ecran toate putere lupt astept
        aștept traiesc trăiesc n-am""".split()
    ),
    "bn": frozenset(
        """ami amar amake amader apni apnar apnara apnake tumi tomar ore oder tar tara ki kichu keu
        kono kothay keno kemon ache achhe chilo chilam hoye hoyeche holo hobe hoy hoise korse korsi
        korlam korbe korben korte kore kora korchi korlo bolse bollo bole bolen dise dilo diyen dibo
        naki aar abar ekhon ekta ekbar onek khub shob shudhu tahole kintu tobu ebong jonno theke sathe
        shathe moddhe er bhai bon meye chele bachcha amma abba nana nani dokan dokane basa basay
        bari barite gari taka raat shokal mash ghonta bujhi bujhe jani jene jante parbo parben parchi
        pari lagbe lagche chai chailam dhonnobad dhonyobad kaj kajer notun thikana pathalo pathate
        likhe likhlam dekhlam dekha jacche ektu bondho puro boro kotha eta ota ei oi bhoy bhoi""".split()
    ),
    "ar": frozenset(
        """ana enta inta anta howa howe hiye hiya mesh msh mish kel kil shi eza iza bas ktir kteer
        ba3d ba3ed ma3 ma3i fiyi fiyye wala wlla yalla khalas tamam mnee7 mneeh bade baddi bidde 7ada
        shukran wallah wallahi khayfa khayef alhamdulillah inshallah mashallah habibi ya3ni yani
        hala2 halla2 emta lesh kif keef 3am ra7 ahlan marhaba""".split()
    ),
}

# Words that point to Punjabi rather than Urdu when Roman-script South Asian words are present.
_PUNJABI_MARKERS = frozenset(
    """menu mainu mennu tuhanu tusi tussi assi sanu saanu kithe kithay vich wich ohnu onu ae si san
    hega haiga kuj kujh sadda tuhada tuhadi saddi changa kiven kive kidda gal gall nu da di de reha
    darda dardi lagda lagdi aaunda aunda aundi karda kardi hoya hoyi dasso naal nal kol ton haan kita
    kiti kiha keha dassya dassna ditta ditti labh paindi hor ik ikk kade jado othe ethe ohna ehna
    ohde tenu saade sadde chalegi sakdi sakda deyo aa likheya rakheya fer pher vadia""".split()
)
_URDU_MARKERS = frozenset(
    """hai hain hay hy ka ko se tha thi thay mujhe mujhay kya aap yeh woh raha rahi rahe lagta lagti
    hoon kyunke kyunki karein chahiye mein hua hui""".split()
)
# Arabic written in Latin letters uses digits for sounds Latin lacks: 3 (ع), 7 (ح), 2 (ء), 5 (خ).
_ARABIZI = re.compile(r"^(?=.*[a-z])(?=.*[23579])[a-z23579']+$")


def _script_language(text: str) -> str | None:
    counts = {"bn": 0, "pa": 0, "arabic": 0, "urdu": 0, "latin": 0}
    for ch in text:
        o = ord(ch)
        if 0x0980 <= o <= 0x09FF:
            counts["bn"] += 1
        elif 0x0A00 <= o <= 0x0A7F:
            counts["pa"] += 1
        elif 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0xFB50 <= o <= 0xFEFF:
            counts["arabic"] += 1
            if ch in _URDU_LETTERS:
                counts["urdu"] += 1
        elif ch.isalpha() and "LATIN" in unicodedata.name(ch, ""):
            counts["latin"] += 1
    non_latin = counts["bn"] + counts["pa"] + counts["arabic"]
    if non_latin == 0 or non_latin < counts["latin"] * 0.5:
        return None
    best = max(("bn", "pa", "arabic"), key=lambda k: counts[k])
    if best != "arabic":
        return best
    words = set(_WORD.findall(text))
    if words & _PUNJABI_SHAHMUKHI_WORDS:
        return "pa"
    return "ur" if counts["urdu"] >= 2 else "ar"


def detect_language(text: str) -> str:
    """Return the reply's language code (see ``LANGUAGES``).

    Non-Latin scripts decide at once (Bengali, Gurmukhi, Arabic; Urdu's extra letters tell
    Urdu from Arabic). Latin-script text is scored by hits in small word lists and by
    language-specific diacritics; English wins unless another language clearly leads, so
    short replies ("ok", "thanks") and English with one borrowed word stay English.

    Example:
        >>> detect_language("mera ex phir se ghar ke bahar khara hai")
        'ur'
        >>> detect_language("Nie czuję się bezpiecznie, on jest pod drzwiami")
        'pl'
        >>> detect_language("great job, 3 weeks and not one call")
        'en'
    """
    by_script = _script_language(text)
    if by_script is not None:
        return by_script
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text)]
    if not words:
        return "en"
    scores = {lang: 0.0 for lang in _WORDS}
    for w in _WORD_OR_ARABIZI.findall(text.lower()):
        if _ARABIZI.match(w):
            scores["ar"] += 1.5
    for w in words:
        for lang, vocab in _WORDS.items():
            if w in vocab:
                scores[lang] += 1.0
        if any(c in _POLISH_LETTERS for c in w):
            scores["pl"] += 1.5
        if any(c in _ROMANIAN_LETTERS for c in w):
            scores["ro"] += 1.5
    # Roman Urdu and Punjabi share most words: decide between them by their markers.
    south_asian = max(scores["ur"], scores["pa"])
    if south_asian > 0:
        pa_marks = sum(w in _PUNJABI_MARKERS for w in words)
        ur_marks = sum(w in _URDU_MARKERS for w in words)
        if pa_marks > ur_marks:
            scores["pa"], scores["ur"] = south_asian + 0.5, 0.0
        else:
            scores["ur"], scores["pa"] = south_asian + 0.5, 0.0
    english = scores.pop("en")
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    # Another language must beat English: by two hits, or by any hit when no English word is seen.
    if (best >= 2 and best > english * 0.8) or (best >= 1 and english == 0):
        return lang
    return "en"

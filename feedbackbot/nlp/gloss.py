"""English glosses of key words in non-English replies, appended before encoding so the English encoder sees them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from feedbackbot.nlp.safety import fold

# One "word=gloss" per entry, written folded (lower case, no accents). A key ending in "*" is a
# stem and matches any word starting with it (Polish and Romanian inflect heavily); other keys
# match whole words. Multi-word keys match as phrases. Glosses use the words English replies use
# for the same thing, so the encoder's reading of English carries over.
_GLOSSARY: Mapping[str, str] = {
    # Roman-script Urdu and Punjabi (shared vocabulary), and a little Urdu and Gurmukhi script.
    "ur": """
        shukriya=thank you|shukria=thank you|meharbani=thank you kindly|dhanvaad=thank you|dhanwad=thank you
        bahut acha=very good|bohat acha=very good|acha=good|changa=good|vadia=great|zabardast=excellent
        bura=bad|bekaar=useless|bekar=useless|ghatiya=terrible|naraz=angry|gussa=angry|afsos=disappointed
        update=update|khabar=news|koi khabar nahi=no news|kisi ne nahi bataya=nobody told me|bataya=told
        nahi bataya=not told|jawab nahi=no reply|jawab=reply|intezaar=waiting|intezar=waiting|udeek*=waiting
        hafte=weeks|mahine=months|din=days|ghante=hours|phone nahi=no call|call nahi=no call
        wapas phone=call back|call karo=call me|call karein=call me|phone karo=call me|phone karein=call me
        raabta=contact|rabta=contact|officer=officer|police wale=police|thana=police station
        badtameez*=rude|badtamiz*=rude|hans*=laughed|hass*=laughed|yaqeen nahi=did not believe|izzat=respect
        tameez=polite|narmi=kindly|suna=listened|sunna=listen|chilla*=shouted|daant*=shouted
        saboot=evidence|saboot nahi=no evidence|cctv=cctv|video=video|gawah=witness|giraftar=arrested
        case band=case closed|band kar diya=closed|file band=case closed|nfa=no further action|charge=charged
        tafteesh=investigation|jaanch=investigation|court=court|adalat=court|kachehri=court|jaj=judge|judge=judge
        tareekh=court date|tareekh badal=date changed|peshi=hearing|sazaa=sentence|saza=sentence|bail=bail
        zamanat=bail|faisla=verdict|gawahi=give evidence|bayan=statement|statement=statement|vps=personal statement
        tarjuman=interpreter|interpreter=interpreter|mutarjim=interpreter|angrezi=english|urdu=urdu language
        punjabi=punjabi language|zaban=language|behra=deaf|mazoor=disabled|wheelchair=wheelchair
        muavza=compensation|muawza=compensation|harjana=compensation|paise=money|paisay=money|phone wapas=phone back
        saman=property|samaan=property|nuksan=damage|nuqsan=damage|insurance=insurance|cica=compensation
        maafi=apology|mafi=apology|mulaqat=meeting|rj=restorative justice|khat=letter|chitthi=letter
        nasli=racist|racist=racist|mazhab=religion|hijab=hijab|pagg=turban|pagri=turban|dari=beard|kala=black
        gora=white|musalman=muslim|sikh=sikh|farq=treated differently|imtiyaz=discrimination|nafrat=hate
        shikayat=complaint|complaint=complaint|shikayat karni=make a complaint|case wapas=withdraw case
        case khatam=drop the case|case nahi chahiye=withdraw|wapas le=withdraw|message mat=stop messaging
        message na=stop messaging|mat bhejo=stop sending|na bhejo=stop sending|tang mat=do not contact
        yaad aaya=remembered|naya=new|nayi=new|gaadi=car|gaddi=car|number plate=number plate|pata=address
        madad=help|support=support|counselling=counselling|idva=idva|refuge=refuge|pareshan=distressed
        darr=afraid|dar=afraid|khatra=danger|dhamki*=threat|maar=hit|mara=hit|chaku=knife|chhuri=knife
        abhi=now|hune=now|bahar=outside|darwaza=door|darwaze=door|ghar=home|bachay=children|bache=children
        bachon=children|bacheyan=children|beti=daughter|beta=son|kudi=daughter|munda=son|mar=die|marna=die
        khudkushi=suicide|goliyan=pills|bojh=burden
        پولیس=police|شکریہ=thank you|عدالت=court|مدد=help|ابھی=now|دھمکی=threat|ترجمان=interpreter|شکایت=complaint
        ਧੰਨਵਾਦ=thank you|ਪੁਲਿਸ=police|ਅਦਾਲਤ=court|ਮਦਦ=help|ਹੁਣ=now|ਸ਼ਿਕਾਇਤ=complaint
    """,
    "pl": """
        dziekuje=thank you|dzieki=thanks|podziekowa*=thank|wspanial*=wonderful|swietn*=great|super=great
        bardzo dobr*=very good|dobr*=good|fataln*=terrible|beznadziej*=hopeless|rozczarowan*=disappointed
        wsciekl*=angry|zly=bad|zla=bad|zle=bad|zenujac*=shameful|brawo=well done|informacj*=information
        wiadomosc*=news|nikt=nobody
        nie zadzwonil*=nobody called|zadzwoni*=call|dzwoni*=calling|oddzwoni*=call back|telefon*=phone
        odpowiedz*=reply|czeka*=waiting|tygodni*=weeks|miesi*=months|godzin*=hours|minut*=minutes
        policjant*=officer|policj*=police|funkcjonariusz*=officer|dyzurn*=call handler|przyjecha*=came out
        niegrzeczn*=rude|chamsk*=rude|wysmia*=laughed at|nie uwierzy*=did not believe|szacun*=respect
        uprzejm*=polite|zyczliw*=kind|sluchal*=listened|krzycza*=shouted|zlekcewaz*=dismissed
        dowod*=evidence|monitoring*=cctv|nagrani*=recording|kamer*=camera|swiad*=witness|aresztowa*=arrested
        zatrzyma*=arrested|umorzon*=case closed|zamknie*=closed|zamknieta=closed|sledztw*=investigation
        dochodzeni*=investigation|oskarzon*=charged|zarzut*=charges|sad=court|sadu=court|sadzie=court
        rozpraw*=hearing|sedzi*=judge|wyrok*=sentence|kaucj*=bail|uniewinnion*=not guilty|winny=guilty
        termin*=date|przeloz*=postponed|zeznani*=statement|oswiadczeni*=statement|vps=personal statement
        tlumacz*=interpreter|jezyk*=language|angielsk*=english|polsk*=polish|gluch*=deaf|niepelnospraw*=disabled
        odszkodowani*=compensation|rekompensat*=compensation|pieniadz*=money|zwrot*=return|rzeczy=property
        telefon z powrotem=phone back|ubezpiecz*=insurance|strat*=loss|zniszcz*=damage|cica=compensation
        przeprosi*=apology|spotkani*=meeting|mediacj*=mediation|list=letter|listu=letter
        sprawiedliwosc naprawcz*=restorative
        rasist*=racist|rasow*=race|relig*=religion|muzulman*=muslim|gej*=gay|trans=trans|obcokrajow*=foreigner
        nienawisc*=hate|inaczej traktow*=treated differently|dyskrymin*=discrimination|polak*=polish
        skarg*=complaint|zlozyc skarge=make a complaint|wycof*=withdraw|rezygnuj*=withdraw
        nie chce kontynuowac=drop the case|nie piszcie=stop messaging|wypiszcie=unsubscribe
        przestancie=stop|nie kontaktuj*=do not contact|przypomnia*=remembered|nowe informacje=new information
        samochod*=car|tablic*=number plate|adres*=address|pomoc*=help|wsparci*=support|terapi*=counselling
        psycholog*=counselling|boje=afraid|strach*=fear|niebezpiecz*=danger|grozi*=threat|grozb*=threats
        bije=hitting|pobi*=beaten|noz*=knife|teraz=now|pod drzwiami=at the door|drzwi*=door|domu=home|dom=home
        dzieci=children|dziecko=child|corka*=daughter|syn*=son|zabi*=kill|umrzec=die|samoboj*=suicide
        tabletk*=pills|zycie=life|zyc=live|ciezar*=burden|most=bridge|moscie=bridge
    """,
    "ro": """
        multumesc=thank you|multumim=thank you|merci=thanks|minunat*=wonderful|excelent*=excellent|super=great
        foarte bine=very good|bine=good|rau=bad|groaznic*=terrible|dezamagit*=disappointed|suparat*=angry
        nervos*=angry|rusine=shame|bravo=well done|informat*=informed|informati*=information|vesti=news
        nimeni=nobody|nu m-a sunat=nobody called|sunat=called|suna*=call|telefon*=phone|raspuns*=reply
        astept*=waiting|saptaman*=weeks|luni=months|ore=hours|minute=minutes|politist*=officer|politi*=police
        agent*=officer|operator*=call handler|au venit=came out|venit=came|nepoliticos*=rude|obraznic*=rude
        a ras=laughed|au ras=laughed|nu m-au crezut=did not believe me|crezut=believed|respect*=respect
        amabil*=kind|politicos*=polite|ascultat=listened|tipat=shouted|ignorat*=ignored
        dovez*=evidence|proba*=evidence|camer*=camera|filmar*=video|martor*=witness|arestat*=arrested
        dosar*=case|inchis*=closed|clasat*=case closed|ancheta*=investigation|investigati*=investigation
        acuzat*=charged|tribunal*=court|instanta*=court|proces*=trial|judecat*=judge|sentint*=sentence
        condamnat*=convicted|achitat*=acquitted|cautiune=bail|termen*=date|amanat*=postponed
        declarati*=statement|vps=personal statement|interpret*=interpreter|traduc*=translate|limba=language
        engleza=english|romana=romanian|surd*=deaf|handicap*=disabled|despagubir*=compensation
        compensati*=compensation|bani=money|lire=pounds|inapoi=back|lucrurile=property|asigurar*=insurance
        paguba=loss|pierder*=loss|stricat*=damage|cica=compensation|scuze=apology|intalnir*=meeting
        mediere=mediation|scrisoare=letter|rj=restorative justice|rasist*=racist|tigan*=gypsy slur
        rom=roma|romi=roma|religi*=religion|discrimin*=discrimination|ura=hate|tratat diferit=treated differently
        strain*=foreigner|plangere=complaint|reclamati*=complaint|retrag*=withdraw|renunt*=drop the case
        nu ma mai sunati=do not contact|nu mai trimiteti=stop messaging|stop mesaje=stop messaging
        mi-am amintit=remembered|informatii noi=new information|masin*=car|numar*=number|adres*=address
        ajutor=help|sprijin*=support|consiliere=counselling|psiholog*=counselling|frica=afraid|teama=fear
        pericol*=danger|ameninta*=threat|bate=hitting|batut*=beaten|cutit*=knife|acum=now|usa=door|usii=door
        casa=home|copii*=children|copilul=child|fetit*=daughter|baiat*=son|omor*=kill|mor=die
        sinucid*=suicide|pastil*=pills|viata=life|exploat*=exploitation|patron*=employer|pasapoart*=passport
    """,
    "bn": """
        dhonnobad=thank you|dhonyobad=thank you|shukriya=thank you|khub bhalo=very good|bhalo=good
        darun=great|kharap=bad|baje=terrible|hotash=disappointed|rag=angry|lojja=shame|khobor=news
        keu janay nai=nobody told me|janay nai=not told|keu phone kore nai=nobody called|call den=call me
        phone korben=call me|call korben=call me|phone=phone|uttor=reply|opekkha=waiting|shoptah=weeks
        mash=months|ghonta=hours|din=days|officer=officer|pulish=police|police=police|ashlo=came out
        obhodro=rude|beyadob=rude|hashlo=laughed|bishwas kore nai=did not believe|somman=respect
        bhodro=polite|doyalu=kind|shunlo=listened|chilla=shouted|proman=evidence|proof=evidence
        camera=camera|cctv=cctv|sakkhi=witness|grephtar=arrested|case bondho=case closed|bondho=closed
        todonto=investigation|court=court|adalot=court|judge=judge|shaja=sentence|jamin=bail|rai=verdict
        tarikh=date|statement=statement|jobanbondi=statement|vps=personal statement|interpreter=interpreter
        dobhashi=interpreter|bhasha=language|bangla=bengali|sylheti=sylheti|english=english|kala=deaf
        protibondhi=disabled|khotipuron=compensation|compensation=compensation|taka=money|pound=pounds
        ferot=back|jinish=property|insurance=insurance|loss=loss|khoti=damage|maf=apology|khoma=apology
        meeting=meeting|chithi=letter|rj=restorative justice|boinnobad=racism|racist=racist|dhormo=religion
        hijab=hijab|gay=gay|hate crime=hate crime|alada bebohar=treated differently|obhijog=complaint
        complaint=complaint|case tule=withdraw|tule nite=withdraw|ar message diyen na=stop messaging
        message diyen na=stop messaging|call diyen na=do not call|mone porse=remembered|notun=new|gari=car
        thikana=address|shahajjo=help|sahajjo=help|support=support|counselling=counselling|bhoy=afraid
        bipod=danger|humki=threat|hamki=threat|mare=hit|marse=hit|churi kore=stole|ekhon=now|dorja=door
        bari=home|basa=home|bachcha=children|baccha=children|meye=daughter|chele=son|morte=die|mora=dead
        atmohotta=suicide|oshudh=pills|bojha=burden
        ধন্যবাদ=thank you|পুলিশ=police|আদালত=court|সাহায্য=help|এখন=now|হুমকি=threat|অভিযোগ=complaint
        দোভাষী=interpreter|ক্ষতিপূরণ=compensation|বাচ্চা=children|ভয়=afraid|খবর=news|ফোন=phone|মামলা=case
        ভালো=good|খারাপ=bad|অফিসার=officer|প্রমাণ=evidence|জামিন=bail|বিচার=trial
    """,
    "ar": """
        شكرا=thank you|شكرًا=thank you|يعطيكم العافية=thank you|ممتاز=excellent|رائع=great|منيح=good
        كويس=good|سيء=bad|زفت=terrible|زعلان=upset|زعلانة=upset|خيبة=disappointed|ما حدا=nobody
        ما حدا اتصل=nobody called|اتصل=called|اتصلوا=call|اتصال=call|تلفون=phone|رد=reply|ما في رد=no reply
        استنى=waiting|انتظار=waiting|اسابيع=weeks|اسبوع=week|شهر=month|اشهر=months|ساعة=hour|ساعات=hours
        الشرطة=police|الشرطي=officer|شرطي=officer|الضابط=officer|اجو=came out|قليل ادب=rude|وقح=rude
        ضحك=laughed|ما صدقوني=did not believe me|احترام=respect|لطيف=kind|لطيفة=kind|سمعتني=listened
        صرخ=shouted|دليل=evidence|ادلة=evidence|كاميرا=camera|فيديو=video|شاهد=witness|شهود=witnesses
        اعتقال=arrest|قبضوا=arrested|سكروا الملف=case closed|سكرتوا الملف=case closed|الملف=case file
        تحقيق=investigation|محكمة=court|المحكمة=court|القاضي=judge|حكم=sentence|كفالة=bail|الكفالة=bail
        موعد=date|تاجيل=postponed|افادة=statement|اقوال=statement|مترجم=interpreter|ترجمة=translation
        انجليزي=english|عربي=arabic|لغة=language|اطرش=deaf|اعاقة=disability|تعويض=compensation
        مصاري=money|فلوس=money|رجعوا=returned|اغراض=property|تامين=insurance|خسارة=loss|اعتذار=apology
        اعتذر=apologised|لقاء=meeting|رسالة=letter|عنصري=racist|عنصرية=racism|دين=religion|حجاب=hijab
        مسلم=muslim|لاجئ=refugee|اجنبي=foreigner|تمييز=discrimination|كراهية=hate|شكوى=complaint
        اشتكي=complain|بدي اشتكي=complaint|اسحب=withdraw|سحب=withdraw|ما بدي كمل=drop the case
        لا تتصلوا=do not contact|ما تبعتوا=stop messaging|ما بدي حدا يتصل=do not contact|تذكرت=remembered
        معلومة=information|سيارة=car|رقم=number|عنوان=address|مساعدة=help|دعم=support|خايفة=afraid
        خايف=afraid|خطر=danger|تهديد=threat|ضرب=hit|سكين=knife|هلق=now|الان=now|الباب=door|البيت=home
        الولاد=children|ولادي=children|اطفالي=children|بنتي=daughter|ابني=son|انتحار=suicide|موت=death
        حبوب=pills|عبء=burden
        shukran=thank you|mnee7=good|ktir=very|wala=not|7ada=anyone|ma 7ada=nobody|yetsel=call
        yetsel fiyi=call me|yetsel fiyye=call me|complaint=complaint|officer=officer|police=police|el officer=officer
        sergeant=sergeant|intizar=waiting|emta=when|shi=anything|ma ba3ref=i do not know|ra2m=number
        2adiye=case|mahkame=court|3omor=life|khayfe=afraid|khayfa=afraid|hala2=now|halla2=now
        ba3atli=sent me|ykhalles=finish|a5les=end|mout=die|baddi moot=want to die
    """,
}


# More everyday words per language (v2): reaching the police versus being kept informed, danger
# now, self-harm, and the words around them. Same format as ``_GLOSSARY``.
_MORE_GLOSSES: Mapping[str, str] = {
    "ur": """
        voicemail=voicemail|hold pe=on hold|line pe=on hold|number band=phone switched off|uthata nahi=does not answer
        uthaya nahi=did not answer|chakkeya nahi=did not answer|jawab nahi aaya=no reply|email ki=emailed
        message chhora=left a message
        kis officer=which officer|kaun dekh raha=who is dealing with it|ab tak nahi pata=still do not know
        kuch nahi pata=do not know anything
        pata nahi=do not know|dasseya nahi=not told|kise ne nahi dasseya=nobody told me|suneya=heard
        pata laggeya=found out
        gaddi aa gayi=police came|gaadi aa gayi=police came|minute mein=within minutes|der=delay|der lagi=took long
        thane=police station|online form=online form|website=website|crash=crashed|report karo=report it
        maar raha=hitting|maar rahi=hitting|kutt reha=beating|peet raha=beating|gala daba=choking|bhejo=send
        jaldi=quickly|foran=immediately|raste mein=on the way|chhupi=hiding|lukki=hiding|band hun=locked in
        danda=stick|lathi=stick|talwar=sword|nashe=drunk|sharab=drink|aag=fire|saala=brother in law
        goliyan=pills|thak gayi=exhausted|bardasht nahi=cannot bear it|alvida=goodbye|nehar=canal|chhaal=jump
        instagram=instagram|account=account|ghoor*=staring|chakkar=circling|dukaan=shop|masjid=mosque
        gurdware=gurdwara
        rishtedar*=relatives|ghar walon=family|pressure=pressure|izzat se=with respect|hans diya=laughed|hassa=laughed
        peshi=hearing|chutti=time off|aage kar di=postponed|tareekh badli=date changed|saboot mein=held as evidence
        survey=survey|messages=messages|roz roz=every day|mazeed=any more|yaad aa gaya=remembered
        naya pata=new address
    """,
    "pl": """
        poczta glosowa=voicemail|poczty glosowej=voicemail|nie odbiera*=does not answer
        nikt nie odbiera=nobody answers
        na linii=on hold|kaz* czekac=told to wait|zgloszeni*=report|formularz*=form|strona internetowa=website
        blad=error
        kto prowadzi=who is dealing with it|prowadzi sprawe=handling the case|nie wiem=do not know|co dalej=what next
        nikt nic=nobody anything|tlumaczy=explains|numer sprawy=crime number|sms*=text message|mail*=email
        w ciagu=within|przyjechal*=came|bije=hitting|dusi*=strangling|szarpie=yanking|rzuca=throwing|pijany=drunk
        przyslijcie=send|wyslijcie=send|blagam=begging|szybko=quickly|ukry*=hiding|schowa*=hiding|parking*=car park
        okn*=window|pozaluj*=regret it|podpal*=set fire|sily=strength|zniknac=disappear|na zawsze=forever
        zegnaj*=goodbye|nikt nie zauwazy=nobody will notice|aresztu=custody|areszt=custody|konta=accounts
        siniak*=bruises|kazal=told to|mediacj*=mediation|laptop*=laptop|przesluchani*=interview|wycofac=withdraw
        tatuaz*=tattoo|przypomnial*=remembered|alarm*=alarm|rasizm=racism
    """,
    "ro": """
        casuta vocala=voicemail|casuta=voicemail|nu raspunde=does not answer|nu raspund=do not answer|mesaje=messages
        formular*=form|online=online|telefon*=phone|am sunat=called|sun la=calling|de o saptamana=for a week
        cine se ocupa=who is dealing with it|dosar*=case|nu stiu=do not know|explicati*=explanation|scrisoare=letter
        au venit=came|in 10 minute=within minutes|minute=minutes|ma bate=hitting me|loveste=hitting|lovit=hit
        pumn*=punch
        beat=drunk|spart=smashed|ma cauta=looking for me|ascuns*=hiding|debara=cupboard|trimiteti=send|repede=quickly
        poarta=gate|parcare=car park|foc=fire|dau foc=set fire|termin*=finish|fara mine=without me|scrisori=letters
        putere=strength|conteaza=matters|cautiune=bail|poze=photos|conturi=accounts|tiktok=tiktok|speriat*=scared
        interpret=interpreter|locuint*=housing|retrag=withdraw|plangere*=complaint|cicatric*=scar|accent=accent
        amanat=postponed|tribunal*=court|proces*=trial|inchisoare=prison
    """,
    "bn": """
        voicemail=voicemail|dhore na=does not answer|keu dhore na=nobody answers|ধরে না=does not answer
        call dilam=called
        bar bar=again and again|বারবার=again and again|থানা*=police station|অনলাইন=online|ফর্ম=form
        janaben=let me know
        জানায়নি=not told|কেউ জানায়নি=nobody told me|বুঝিয়ে=explained|চিঠি*=letter|বন্ধ=closed
        kew bole nai=nobody told me
        mongolbar=tuesday|shukrobar=friday|police chole ashlo=police came|minute=minutes|মিনিট=minutes
        মারছে=hitting|marche=hitting|gola tipe=choking|গলা টিপে=choking|churi=knife|ছুরি=knife|পাঠান=send|pathan=send
        তাড়াতাড়ি=quickly|taratari=quickly|লুকিয়ে=hiding|lukiye=hiding|আটকে=trapped|ইট=bricks|জানালা*=window
        খাটের নিচে=under the bed|chhad*=roof|sesh=end|শেষ=end|ওষুধ=medicine|oshudh=medicine|eksathe=all at once
        একসাথে=all at once|kosto=suffering|কষ্ট=suffering|জামিন*=bail|স্কুল*=school|unknown number=unknown number
        টাকা=money|ভয় দেখা*=frightening|বৃদ্ধা=elderly|জেল*=prison|family matter=family matter|hashlo=laughed
        ফেরত=back|jhamela=trouble|মেসেজ=messages|gari=car|notun=new
    """,
    "ar": """
        مسكر=switched off|ما حدا رد=nobody answered|ما رد=no answer|ايميل*=emails|ما حدا يرد=nobody answers
        بيرد=answers
        byrodd=answers|ma 7ada=nobody|website=website|mobile=mobile|الموقع=website|عالانتظار=on hold
        خبرني=told me|ما حدا خبرني=nobody told me|يشرحلي=explain to me|مين الضابط=which officer|المسؤول=in charge
        بعرف=know|ما بعرف=do not know|شو صار=what happened|وعدني=promised me|التحقيق=the investigation
        انسكرت=was closed
        وصلت=arrived|خلال=within|ربع ساعة=quarter of an hour|دقايق=minutes|دقائق=minutes
        عم يضرب=hitting|يضربني=hits me|ضربني=hit me|يكسر=smashing|ابعتوا=send|بسرعة=quickly|تحت=downstairs
        الحين=now|هلق=now|hala2=now|بالقوة=by force|barra=outside|ydo2=knocking|3al bab=at the door|kha2fe=scared
        ما عاد فيني=cannot go on|كمل=continue|العذاب=torment|للأبد=forever|ta3bane=exhausted|risale=letter
        رسالة=letter
        كفالة=bail|بكفالة=on bail|بيصوروني=filming me|رسائل=messages|للشرطة=to the police|ارقام=numbers
        كل ليلة=every night
        مترجم=interpreter|لهجة=dialect|السكن=housing|laptop=laptop|اسحب=withdraw|الشكوى=complaint|وقفوا=stop
        الرسائل=messages|تذكرت=remembered|وشم=tattoo|بالسجن=in prison|مرتاحة=at ease
    """,
}


# Words found often in training replies and not yet glossed (2026.11.6): who is there (husband,
# brother, neighbour), where and when (standing outside, inside, in the bathroom, tonight, again,
# every day), what is happening (coming, drunk, banging on the door) and how people say they cannot
# go on. Read from the training split only. Same format as ``_GLOSSARY``.
_PRESENCE_GLOSSES: Mapping[str, str] = {
    "ur": """
        raat=night|raat ko=at night|aaj=today|aj=today|aaj raat=tonight|kal raat=last night|khara=standing
        khari=standing|khare=standing|khada=standing|khadi=standing|khade=standing|baitha=sitting|baithi=sitting
        andar=inside|bahar khara=standing outside|gaari=car|gali=street|gate=gate|window=window|khidki=window
        kamre=room|kamra=room|bathroom=bathroom|saamne=in front|samne=in front|pichhe=behind|peeche=behind
        aa raha=coming|aa rahi=coming|aa gaya=has come|aa gayi=has come|aunda=coming|pohanch=arriving
        phir=again|fer=again|dobara=again|roz=every day|har roz=every day|har raat=every night
        jaan se maar=kill|jaan=life|tor=breaking|torh=breaking|tod=breaking|thok raha=banging
        pee ke=drunk|pee=drinking|nasha=drunk|chaaku=knife|haath=hand|hath=hand
        ammi=mother|maa=mother|bebe=mother|abbu=father|papa=father|bapu=father|bhai=brother|bhra=brother
        bhain=sister|behen=sister|shohar=husband|khawand=husband|ghar wala=husband|bachian=children
        parivar=family|sasural=in-laws|saas=mother in law
        khatam=end|khatam kar=end it|jeene=live|jeena=live|jeene ka=to live|thak=tired|thakk=tired
        neend=sleep|akeli=alone|akela=alone|koi faida nahi=no point|himmat nahi=no strength
    """,
    "pl": """
        stoi=is standing|stal=was standing|stala=was standing|siedzi=is sitting|czeka na mnie=waiting for me
        znowu=again|znow=again|dzis=today|dzisiaj=today|wczoraj=yesterday|wlasnie=right now|w tej chwili=right now
        lazience=bathroom|lazienk*=bathroom|zabral*=took|maz=husband|meza=husband|mezem=husband|mezowi=husband
        bylego=ex|byly maz=ex husband|byly partner=ex partner|ex=ex|partner*=partner
        pod blokiem=outside the building|blokiem=building|bloku=building|klatce=stairwell|klatka=stairwell
        nocy=night|noc=night|w nocy=at night|codziennie=every day|ciagle=constantly|caly czas=all the time
        sasiad*=neighbour|brat=brother|brata=brother|bratem=brother|rodzin*=family|ojca=father|ojciec=father
        matk*=mother|mama=mother|mamy=mother|siostr*=sister
        krzycz*=shouting|wali w drzwi=banging on the door|dobija sie=banging on the door|wlamuje*=breaking in
        wlamal*=broke in|idzie=coming|jedzie=on his way|przyjdzie=will come|wszed*=came in|wejdzie=will come in
        spie=sleep|spac=sleep|nie spie=cannot sleep|mysle=thinking|czuje=feel|widze=see|napisal*=wrote
        pisze=writing|dostalam=received|dostalem=received|funtow=pounds|lepiej=better
        nie ma sensu=no point|mam dosc=had enough|nie wytrzymam=cannot take it|skonczyc=end it|skocze=jump
        nie chce zyc=do not want to live|sama=alone
    """,
    "ro": """
        zis=said|zice=says|vine=coming|vin=coming|veniti=come|va rog=please|rog=please|luat=took
        seara=evening|noaptea=at night|noapte=night|diseara=tonight|azi=today|astazi=today|ieri=yesterday
        scris=wrote|scrie=writes|gandesc=thinking|fostul=ex|fosta=ex|sotul=husband|sot=husband
        vecin*=neighbour|scara=stairwell|blocului=building|bloc=building|omoara=kills|urla=screaming
        striga=shouting|baut=drunk|geam*=window|fereastr*=window|zilnic=every day|in fiecare zi=every day
        mereu=always|intampla=happening|iesit=went out|scoala=school|mama=mother|sora=sister
        fratele=brother|frate=brother|tatal=father|tata=father|bunica=grandmother|siguranta=safety
        ordin de protectie=protective order|ordin=order|interdictie=restraining|curte=yard|mana=hand
        plecat=left|inca=still|aici=here|langa=next to|acasa=at home|afara=outside|in fata=in front
        bate la usa=knocking at the door|bate in usa=banging on the door|sparge*=smashing|intrat=came in
        intra=coming in|a intrat=came in|sta=is standing|statea=was standing|ma urmareste=following me
        urmareste=following|nu mai pot=cannot go on|nu mai vreau=do not want any more|sa traiesc=to live
        obosit*=tired|singur*=alone|nu are rost=no point
    """,
    "bn": """
        shamne=in front|samne=in front|boshe=sitting|bosha=sitting|bhitore=inside|bhetore=inside
        ashche=coming|asche=coming|ashtese=coming|abar=again|eka=alone|shami=husband|swami=husband
        bachchader=children|bacchader=children|protidin=every day|raate=at night|raat=night|aj raate=tonight
        dokaner=shop|dokan=shop|darzar=door|dorjay=at the door|janala=window|gali=street
        maa=mother|abba=father|bhai=brother|bon=sister|matal=drunk|mod kheye=drunk
        bachte chai na=do not want to live|bachar=to live|ar parchi na=cannot go on|parchi na=cannot go on
        দরজা*=door|ভেতরে=inside|ভিতরে=inside|আসছে=coming|আবার=again|একা=alone|স্বামী=husband
        রাতে=at night|সামনে=in front|বসে=sitting|প্রতিদিন=every day|বাঁচতে=to live|বাঁচার=to live
        মরে যা=die|দাঁড়িয়ে=standing|মাতাল=drunk|জানালা*=window|ভাই=brother
    """,
    "ar": """
        واقف=standing|واقفة=standing|قاعد=sitting|بسيارته=in his car|سيارته=his car|الليلة=tonight
        الليل=at night|كل يوم=every day|قدام=in front of|قدّام=in front of|تحت البناية=outside the building
        حالي=myself|نفسي=myself|اقتل حالي=kill myself|اقتل نفسي=kill myself|ما بدي عيش=do not want to live
        تعبت=tired|خلص=enough|عالبيت=to the house|بالبيت=at home|جوزي=my husband|زوجي=my husband
        طليقي=my ex husband|اخوه=his brother|ابوه=his father|اهله=his family|اخوي=my brother|امي=my mother
        مدرسة=school|رجع=came back|يقرب=coming close|جاي=coming|جايي=coming|وصل=arrived|يدق=knocking
        عم يدق=knocking|يكسر الباب=breaking the door|سكران=drunk|باب=door|bab=door|lele=night
        el lele=tonight|jay=coming|wa2ef=standing|sakran=drunk|ta3ban=tired|ta3bane=tired
    """,
}


@cache
def _tables() -> dict[str, tuple[dict[str, str], list[tuple[str, str]], list[tuple[re.Pattern[str], str]]]]:
    """Per language: whole-word glosses, stem glosses (longest first), and phrase patterns."""
    out: dict[str, tuple[dict[str, str], list[tuple[str, str]], list[tuple[re.Pattern[str], str]]]] = {}
    for lang, base in _GLOSSARY.items():
        raw = "\n".join((base, _MORE_GLOSSES.get(lang, ""), _PRESENCE_GLOSSES.get(lang, "")))
        words: dict[str, str] = {}
        stems: list[tuple[str, str]] = []
        phrases: list[tuple[re.Pattern[str], str]] = []
        for entry in re.split(r"[|\n]", raw):
            entry = entry.strip()
            if not entry:
                continue
            key, _, gloss = entry.partition("=")
            key = fold(key.strip())[0]
            if not key.isascii() and any(0x0980 <= ord(c) <= 0x09FF for c in key):
                # Bengali vowel signs are not word characters, so match these as plain substrings.
                phrases.append((re.compile(re.escape(key.rstrip("*"))), gloss.strip()))
            elif " " in key.rstrip("*"):
                body = re.escape(key.rstrip("*"))
                tail = r"\w*" if key.endswith("*") else r"\b"
                phrases.append((re.compile(rf"\b{body}{tail}"), gloss.strip()))
            elif key.endswith("*"):
                stems.append((key[:-1], gloss.strip()))
            else:
                words[key] = gloss.strip()
        stems.sort(key=lambda kv: -len(kv[0]))
        out[lang] = (words, stems, phrases)
    out["pa"] = out["ur"]
    return out


_TOKEN = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")


def glosses(text: str, language: str) -> list[str]:
    """English glosses of the key words found in ``text``, in order of first appearance, no repeats.

    Example:
        >>> glosses("nu m-a sunat nimeni de la politie", "ro")
        ['nobody called', 'called', 'nobody', 'police']
    """
    tables = _tables().get(language)
    if tables is None:
        return []
    words, stems, phrases = tables
    folded = fold(text)[0]
    found: list[tuple[int, str]] = []
    for pattern, gloss in phrases:
        for m in pattern.finditer(folded):
            found.append((m.start(), gloss))
    for m in _TOKEN.finditer(folded):
        tok = m.group(0)
        if tok in words:
            found.append((m.start(), words[tok]))
            continue
        for stem, gloss in stems:
            if tok.startswith(stem):
                found.append((m.start(), gloss))
                break
    out: list[str] = []
    for _, gloss in sorted(found, key=lambda x: x[0]):
        if gloss not in out:
            out.append(gloss)
    return out


def encoder_text(text: str, language: str) -> str:
    """What the encoder reads: the reply itself, then, for a non-English reply, English glosses of its key words."""
    if language == "en":
        return text
    extra = glosses(text, language)
    return f"{text} (in English: {', '.join(extra)})" if extra else text

"""A national crime category's ICCS class, guessed from its words with a stated confidence
(pure). Used by `ideal profile new` to propose a mapping and by every reading of a profile to
warn where a mapping contradicts the category's own words.

The terms follow the International Classification of Crime for Statistical Purposes (ICCS,
UNODC 2015, version 1.0), its Spanish ("Clasificación Internacional de Delitos con Fines
Estadísticos") and Portuguese editions' names of the classes IDEAL scores
(ideal/reference/data/iccs.csv) and their inclusions and exclusions, and the names national
exports give them (SESNSP, SINESP, SNIC, OIJ, Policía Nacional). Some words change the offence
whatever class the rest names (ICCS's own distinctions):

* negligence (culposo, negligente, imprudente, involuntario; pt culposo, imprudência): a
  killing is non-intentional homicide (ICCS 0103), not 0101;
* attempt (tentativa, tentado, frustrado): an attempted killing is 0102 (the other classes
  count attempts with the completed act);
* "sin violencia" / "sem violência": a robbery is theft (0502);
* seizure of documents or goods ("secuestro de documentos", "incautación"): a procedural act,
  never kidnapping;
* pimping and the sexual exploitation of others (proxenetismo, rufianería, lenocinio,
  "corrupción de menores"): sexual exploitation (ICCS 0302), never corruption;
* smuggling of migrants ("tráfico de migrantes"): ICCS 0805, not trafficking in persons;
* suicide, natural or accidental death: not a crime.

A guess is ``high`` when a term that names the class alone matched (homicidio doloso,
feminicidio, extorsión, hurto), ``medium`` for a broader word (asalto, droga, armas, muerte
violenta) and None when nothing matched (a person decides).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field


def fold(text: str) -> str:
    """Lower case, accents and punctuation away, spaces single."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9]+", " ", text)).strip()


@dataclass(frozen=True)
class Guess:
    code: str | None              # the ICCS class, or None (out of scope, or not recognised)
    out_of_scope: str | None      # why it is not one of IDEAL's crime types, when that is known
    confidence: str | None        # high | medium | None (not recognised)
    matched: tuple[str, ...] = field(default_factory=tuple)  # the words that decided

    @property
    def recognised(self) -> bool:
        return self.code is not None or self.out_of_scope is not None


# (ICCS code, confidence, pattern on the folded text): the first that matches names the class
CLASSES: list[tuple[str, str, str]] = [
    ("0101", "high", r"\b(homicidios?|homicidio doloso|homicidio intencional|feminicidios?|femicidios?|"
                     r"asesinatos?|parricidios?|infanticidios?|sicariato|latrocinio|"
                     r"lesao corporal seguida de morte|lesiones? seguidas? de muerte)\b"),
    ("0101", "medium", r"\b(muertes? violentas?|muerte por agresion|mortes? violentas? intencionais?)\b"),
    ("020221", "high", r"\b(secuestros?|sequestros?|plagios?|secuestro extorsivo)\b"),
    ("0204", "high", r"\b(trata de personas|trata de seres humanos|trafico de pessoas|trata de pessoas|"
                     r"trafico de personas)\b"),
    ("02051", "high", r"\b(extorsion(es)?|extorsao|extorsiones|chantajes?|chantagem|cobro de piso)\b"),
    ("0401", "high", r"\b(roubos?|atracos?|asaltos? a mano armada|robos? con violencia|robos? a mano armada|"
                     r"robos? con arma|robos? agravados? por (el )?uso de arma)\b"),
    # "robo" is robbery in most members, theft with force on things in some (Costa Rica): medium
    ("0401", "medium", r"\b(robos?|asaltos?|assaltos?)\b"),
    ("0502", "high", r"\b(hurtos?|furtos?|abigeato|rateria)\b"),
    ("0601", "high", r"\b(narcotrafico|narcomenudeo|microtrafico|trafico de (drogas|estupefacientes|"
                     r"entorpecentes)|drogas?|estupefacientes?|entorpecentes?|psicotropicos?|"
                     r"sustancias controladas)\b"),
    ("0601", "medium", r"\bnarco"),
    ("07041", "high", r"\b(lavado de (activos|dinero|capitales)|blanqueo( de capitales)?|lavagem de dinheiro|"
                      r"legitimacion de capitales)\b"),
    ("0703", "high", r"\b(corrupcion|corrupcao|cohecho|sobornos?|peculado|concusion|trafico de influencias|"
                     r"corrupcao (ativa|passiva)|enriquecimiento ilicito|prevaricato)\b"),
    ("09012", "high", r"\b(trafico|comercio|contrabando|fabricacion|fabricacao)( ilicito| ilegal)? de armas?\b"),
    ("09051", "high", r"\b(asociacion ilicita|grupo delictivo organizado|organizacion criminal|"
                      r"delincuencia organizada|associacao criminosa|organizacao criminosa|"
                      r"concierto para delinquir|crimen organizado)\b"),
    ("0903", "medium", r"\b(delitos? informaticos?|crimes? ciberneticos?|ciberdelitos?|cibercrimen|"
                       r"acceso ilicito|sistemas informaticos|invasao de dispositivo)\b"),
    ("1003", "medium", r"\b(fauna|flora|especies protegidas|vida silvestre|trafico de especies|"
                       r"animales silvestres)\b"),
]

# a member's own usage where it differs from the region's (checked before CLASSES): (code or None,
# confidence, pattern, why when out of scope); tested per member in tests/ingest/test_categories.py
MEMBER_USAGE: dict[str, list[tuple[str | None, str, str, str | None]]] = {
    # Uruguay: "rapiña" is robbery (theft with violence or threat against a person, Código Penal
    # art. 344); "hurto" is theft; "copamiento" a robbery holding people in a place (art. 344 bis)
    "UY": [("0401", "high", r"\b(rapinas?|copamientos?)\b", None)],
    # Costa Rica: "robo" is theft with force on things (Código Penal arts. 212-213: breaking in),
    # ICCS 0501 burglary, which IDEAL does not score; robbery against a person is "asalto"
    "CR": [(None, "high", r"^(?!.*\basaltos?\b).*\brobos?\b",
            "in Costa Rica, robo is theft with force on things (ICCS 0501, burglary), not robbery; "
            "robbery is asalto")],
}

NEGLIGENT = r"\b(culposos?|culposas?|negligentes?|negligencia|imprudentes?|imprudencia|imprudencial|" \
            r"involuntari[oa]s?|no intencional(es)?|nao intencional|sin intencion|accidente de transito|" \
            r"transito|atropell)"
ATTEMPT = r"\b(tentativas?|tentad[oa]s?|frustrad[oa]s?|en grado de tentativa|intento de)\b"
NOT_VIOLENT = r"\b(sin violencia|sem violencia)\b"
SEIZURE = r"\b(documentos?|bienes|vehiculos? (secuestrados|incautados)|incautacion|decomiso|examen|" \
          r"allanamiento|mercaderias?)\b"
SEXUAL_EXPLOITATION = r"\b(proxenetas?|proxenetismo|rufian(eria|ismo)?|lenocinio|explotacion sexual|" \
                      r"prostitucion|corrupcion de menores|pornografia)\b"
MIGRANTS = r"\b(migrantes?|trafico ilicito de migrantes|contrabando de migrantes|coyotaje)\b"
NOT_A_CRIME = r"\b(suicidios?|suicidas?|muerte natural|muertes naturales|muerte accidental|muertes accidentales|" \
              r"morte natural|morte acidental|intento de suicidio)\b"
ARMS_POSSESSION = r"\b(portacion|porte|tenencia|posesion|posse|uso)( ilegal| ilicita?| ilicito)? de armas?\b"


def _hit(pattern: str, text: str) -> str | None:
    m = re.search(pattern, text)
    return m.group(0).strip() if m else None


def guess(category: str, country: str | None = None) -> Guess:
    """The ICCS class of a national category (its words, any case and accents), in the usage
    of ``country`` where it differs from the region's (MEMBER_USAGE)."""
    text = fold(category)
    if not text:
        return Guess(None, None, None)
    word = _hit(NOT_A_CRIME, text)
    if word:
        return Guess(None, "not a crime (suicide, natural or accidental death)", "high", (word,))
    code, confidence, matched = None, None, ()
    for c, conf, pattern, why in MEMBER_USAGE.get((country or "").upper(), []):
        word = _hit(pattern, text)
        if word:
            if c is None:
                return Guess(None, why, conf, (word.split()[-1],))
            code, confidence, matched = c, conf, (word,)
            break
    for c, conf, pattern in ([] if code else CLASSES):
        word = _hit(pattern, text)
        if word:
            code, confidence, matched = c, conf, (word,)
            break
    negligent = _hit(NEGLIGENT, text)
    if code == "0101" and negligent:
        return Guess(None, "non-intentional homicide (negligent or traffic: ICCS 0103), not intentional homicide",
                     "high", (*matched, negligent))
    if code == "0101":
        attempt = _hit(ATTEMPT, text)
        if attempt:
            return Guess("0102", None, "high", (*matched, attempt))
    if code == "0401":
        soft = _hit(NOT_VIOLENT, text)
        if soft:
            return Guess("0502", None, "high", (*matched, soft))
    if code == "020221":
        seized = _hit(SEIZURE, text)
        if seized:
            return Guess(None, "seizure of documents or goods (a procedural act), not kidnapping", "high",
                         (*matched, seized))
    if code in ("0703", None):
        exploit = _hit(SEXUAL_EXPLOITATION, text)
        if exploit:
            return Guess(None, "sexual exploitation (pimping, corruption of minors: ICCS 0302), not corruption",
                         "high", (*matched, exploit))
    if code == "0903":
        sexual = _hit(r"\bsexua(l|les)\b", text)
        if sexual:
            return Guess(None, "sexual offences (ICCS 03), online or not", "high", (*matched, sexual))
    if code in ("0204", None):
        smuggled = _hit(MIGRANTS, text)
        if smuggled:
            return Guess(None, "smuggling of migrants (ICCS 0805), not trafficking in persons", "high",
                         (*matched, smuggled))
    if code is None:
        held = _hit(ARMS_POSSESSION, text)
        if held:
            return Guess(None, "unlawful possession or use of weapons (ICCS 09011, 09013), not arms trafficking",
                         "high", (held,))
    if code is not None and negligent:  # e.g. "lesiones culposas" would not reach here; stay careful
        return Guess(None, None, None, (*matched, negligent))
    return Guess(code, None, confidence, matched)


def related(a: str, b: str) -> bool:
    """Codes of the same ICCS branch (one is the other's parent or child)."""
    return a.startswith(b) or b.startswith(a)


def review(category: str, mapped: str | None, country: str | None = None) -> tuple[Guess, str | None]:
    """(the guess, a doubt) for a profile's mapping of ``category`` to ``mapped`` (an ICCS code,
    or None when the profile says out of scope): a doubt when the category's words surely
    (confidence high) name another class or say that the offence is not the mapped one."""
    g = guess(category, country)
    if mapped is None or not g.recognised or g.confidence != "high":
        return g, None
    if g.code is None and g.out_of_scope:
        return g, f"its words ({', '.join(g.matched)}) say {g.out_of_scope}"
    if g.code is not None and not related(g.code, mapped):
        return g, f"its words ({', '.join(g.matched)}) name ICCS {g.code}"
    return g, None

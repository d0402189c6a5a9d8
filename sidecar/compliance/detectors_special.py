"""The ``special_category`` detector: GDPR Article 9 data about a person; and
``health_condition``, its health and genetic parts alone.

Health, religion, ethnic origin, sexual orientation, political opinion, trade-union membership,
genetic and biometric data. Bare topic words ("diabetes", "church", "union") are not personal
data; only phrases that tie the topic to a person are reported: a subject or possessive
(``she is a practising Muslim``, ``his HIV status``), a verb that only applies to people
(``was diagnosed with``, ``came out as``) or a form field (``Ethnicity: …``).
"""

from __future__ import annotations

from sidecar.compliance.detector_base import Detector, PatternSpec

_SUBJECT = (
    r"(?:he|she|they|i|we|(?:the )?(?:patient|employee|applicant|candidate|customer|client|claimant"
    r"|worker|member|tenant|student|user|caller)|my (?:wife|husband|partner|son|daughter|mother"
    r"|father|brother|sister|colleague|manager|boss|friend|neighbou?r))"
)
_POSSESSIVE = (
    r"(?:his|her|their|my|(?:the )?(?:patient|employee|applicant|candidate|customer|client|claimant"
    r"|worker|member|tenant|student|user|caller)(?:'s|’s))"
)
_BE = r"(?:is|am|are|was|were|has been|'s|’s)"
_PHRASE_TAIL = r"[a-z][a-z0-9' -]{2,40}"

HEALTH = (
    rf"\b(?:was|is|been|being|got|recently|newly|just)\s+diagnosed\s+with\s+{_PHRASE_TAIL}",
    rf"\b{_SUBJECT}\s+(?:suffers|suffered|has been suffering|is suffering)\s+from\s+{_PHRASE_TAIL}",
    rf"\b{_SUBJECT}\s+{_BE}\s+(?:being\s+)?treated\s+for\s+{_PHRASE_TAIL}",
    rf"\b{_SUBJECT}\s+{_BE}\s+(?:hiv[- ]positive|pregnant|disabled|terminally ill|in remission|on "
    r"dialysis|an alcoholic|a recovering (?:alcoholic|addict)|bipolar|schizophrenic|diabetic|"
    r"epileptic|autistic|clinically depressed|in rehab|undergoing chemotherapy)",
    rf"\b{_POSSESSIVE}\s+(?:medical condition|diagnosis|disability|illness|mental health|hiv status"
    r"|cancer|pregnancy|medical history|health condition|chemotherapy|psychiatric|psychiatrist"
    r"|therapist|antidepressants|rehab|addiction|miscarriage|seizures|dementia)",
    rf"\b{_SUBJECT}\s+(?:takes|is taking|was prescribed|has been prescribed|tested positive for)\s+"
    r"(?:hiv|antiretrovirals|antidepressants|insulin|lithium|methadone|prozac|zoloft|sertraline"
    r"|fluoxetine|chemotherapy)",
    r"\b(?:medical|sick|disability|stress|mental health)\s+leave\s+(?:for|due to|because of)\s+"
    + _PHRASE_TAIL,
)
RELIGION = (
    rf"\b{_SUBJECT}\s+{_BE}\s+(?:a |an )?(?:devout |practicing |practising |observant |orthodox "
    r"|born-again )?(?:muslim|christian|jewish|jew|hindu|buddhist|sikh|catholic|protestant|mormon"
    r"|atheist|agnostic|evangelical|jehovah's witness)\b",
    rf"\b{_POSSESSIVE}\s+(?:religion|religious (?:beliefs|affiliation|views|practices?)|faith)\b",
    rf"\b{_SUBJECT}\s+(?:attends|attended|goes to|prays at|worships at)\s+(?:the |a |her |his |their )?"
    r"(?:local )?(?:mosque|synagogue|church|temple|gurdwara|kingdom hall)",
    r"\b(?:converted|converting)\s+to\s+(?:islam|christianity|judaism|hinduism|buddhism"
    r"|catholicism|sikhism)",
    rf"\b{_SUBJECT}\s+(?:observes|is observing|fasts during|is fasting for)\s+(?:ramadan|shabbat"
    r"|the sabbath|lent|yom kippur|passover)",
    r"\breligion\s*[:=]\s*[a-z][a-z -]{2,30}",
)
ETHNICITY = (
    rf"\b{_POSSESSIVE}\s+(?:race|ethnicity|ethnic (?:origin|background|group)|racial (?:background"
    r"|origin)|national origin)\b",
    rf"\b{_SUBJECT}\s+{_BE}\s+of\s+(?:[a-z-]+\s+){{1,2}}(?:descent|origin|heritage|ancestry)\b",
    r"\b(?:identifies|identified|self-identifies)\s+as\s+(?:black|white|hispanic|latino|latina"
    r"|latinx|asian|native american|indigenous|aboriginal|roma|pacific islander|african american"
    r"|mixed race|biracial|arab)",
    r"\b(?:race|ethnicity|ethnic origin)\s*[:=]\s*[a-z][a-z -]{2,30}",
)
ORIENTATION = (
    rf"\b{_SUBJECT}\s+{_BE}\s+(?:an?\s+)?(?:openly\s+)?(?:gay|lesbian|bisexual|homosexual|queer|asexual"
    r"|pansexual)\b",
    r"\b(?:came|coming|come)\s+out\s+as\s+(?:gay|lesbian|bisexual|trans|transgender|queer"
    r"|non-binary|asexual|pansexual)",
    r"\bidentifies\s+as\s+(?:gay|lesbian|bisexual|queer|asexual|pansexual)",
    rf"\b{_POSSESSIVE}\s+(?:sexual orientation|sexuality|sex life|same-sex partner)",
    r"\bsexual orientation\s*[:=]\s*[a-z][a-z -]{2,30}",
)
POLITICAL = (
    rf"\b{_SUBJECT}\s+{_BE}\s+(?:a |an )?(?:registered |active |card-carrying |lifelong |staunch )?"
    r"(?:member of|supporter of|donor to|volunteer for|activist (?:for|with)|canvasser for)\s+the\s+"
    r"(?:[a-z-]+\s+){0,3}(?:party|movement)\b",
    rf"\b{_SUBJECT}\s+(?:always\s+)?(?:votes|voted|will vote|plans to vote)\s+(?:for\s+)?(?:the\s+)?"
    r"(?:labour|conservatives?|tory|tories|liberal democrats?|republicans?|democrats?|greens?"
    r"|reform uk|snp|afd|cdu|spd|podemos|vox|psoe|rassemblement national|la france insoumise)\b",
    rf"\b{_POSSESSIVE}\s+(?:political (?:views|opinions|affiliation|beliefs|leanings|party|activism)"
    r"|party (?:membership|affiliation))",
    r"\bpolitical (?:affiliation|party|opinion)\s*[:=]\s*[a-z][a-z -]{2,30}",
)
UNION = (
    rf"\b{_SUBJECT}\s+{_BE}\s+(?:a |an )?(?:member of|shop steward (?:for|at|of)|union rep"
    r"(?:resentative)? (?:for|at)|(?:an )?organi[sz]er for)\s+(?:the\s+)?(?:[a-z.-]+\s+){0,4}"
    r"(?:union|teamsters|unite|unison|gmb|afl-cio|seiu|uaw|ver\.di|ig metall|cgt|cfdt)\b",
    rf"\b{_SUBJECT}\s+(?:joined|has joined|left)\s+the\s+(?:[a-z.-]+\s+){{0,3}}(?:union|teamsters)\b",
    rf"\b{_POSSESSIVE}\s+(?:union membership|trade union (?:membership|activities|activity|role)"
    r"|union (?:dues|activities|activity|role))",
    r"\b(?:trade union|union) member(?:ship)?\s*[:=]\s*(?:yes|true|active|y)\b",
)
GENETIC = (
    r"\b(?:carries|is a carrier of|carrier of|tested positive for|is positive for)\s+(?:the\s+)?"
    r"(?:brca1|brca2|brca|huntington'?s|apoe4|apoe-e4|cystic fibrosis|sickle cell|tay-sachs|lynch "
    r"syndrome)(?:\s+(?:gene|mutation|variant|trait))?",
    rf"\b{_POSSESSIVE}\s+(?:genetic (?:test|testing|results?|profile|data|predisposition"
    r"|screening|markers?)|dna (?:test|results?|profile|sample)|genome|genotype)",
    r"\bgenetic (?:test|testing|screening) (?:results? )?(?:showed|shows|revealed|indicates?"
    r"|confirmed)",
)
BIOMETRIC = (
    rf"\b{_POSSESSIVE}\s+(?:fingerprints?|retina(?:l)? scans?|iris scans?|face ?prints?|facial "
    r"(?:geometry|scan|template|recognition data)|voice ?prints?|biometric (?:data|template"
    r"|identifiers?|records?|samples?)|palm ?prints?)",
    r"\b(?:fingerprint|facial recognition|face|iris|retina|voice|biometric)\s+(?:template|hash"
    r"|scan|data|enrolment|enrollment)\s+(?:of|for)\s+(?:employee|user|customer|patient"
    r"|applicant|mr|mrs|ms|dr)\b",
)

CATEGORIES = {
    "health": HEALTH,
    "religion": RELIGION,
    "ethnicity": ETHNICITY,
    "sexual_orientation": ORIENTATION,
    "political_opinion": POLITICAL,
    "trade_union": UNION,
    "genetic": GENETIC,
    "biometric": BIOMETRIC,
}


def _tail_ok(value: str) -> bool:
    return len(value.strip()) >= 6


def _specs(*groups: tuple[str, ...]) -> tuple[PatternSpec, ...]:
    return tuple(
        PatternSpec(regex="(?i)" + regex, validate=_tail_ok, isolated=False) for group in groups for regex in group
    )


DETECTOR = Detector(
    id="special_category",
    description="GDPR special-category data about a person: health, religion, ethnic origin, "
    "sexual orientation, political opinion, trade-union membership, genetic and biometric data.",
    patterns=_specs(*CATEGORIES.values()),
)

#: The health part of ``special_category``, for rules about health information (HIPAA), which
#: must not fire on a person's religion, politics or union membership.
HEALTH_DETECTOR = Detector(
    id="health_condition",
    description="Health information about a person: diagnoses, conditions, treatment, medication, "
    "health-related leave and genetic test results (the health and genetic parts of "
    "special_category).",
    patterns=_specs(HEALTH, GENETIC),
)

"""Phone inventories and the tables that turn phones into mouth shapes.

ARPAbet (stress digits dropped, except ``AH0`` for the reduced schwa, silence ``SIL``)
is the one phone alphabet inside the app: both synthesizers are mapped to it, and
the shapes follow from it. ``ALLOWED`` is the scoring rule: the shapes that Rhubarb
Lip Sync's own animation rules (animationRules.cpp) may show for a phone, the
same table as ``shared/tools/lipscore.py`` so our figures are comparable.
"""

SHAPES = "ABCDEFGHX"

# Oculus / MPEG-4 viseme set, in the order of the weight vectors we produce.
VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou")

ALLOWED = {
    "AO": "E",
    "AA": "D",
    "IY": "B",
    "UW": "F",
    "EH": "C",
    "IH": "B",
    "UH": "F",
    "AH": "CD",
    "AH0": "BC",
    "AE": "C",
    "EY": "CB",
    "AY": "CDB",
    "OW": "EF",
    "AW": "CDE",
    "OY": "EB",
    "ER": "BCE",
    "P": "A",
    "B": "A",
    "T": "BF",
    "D": "BF",
    "K": "BCEFH",
    "G": "BCEFH",
    "CH": "BF",
    "JH": "BF",
    "F": "G",
    "V": "G",
    "TH": "BF",
    "DH": "BF",
    "S": "BF",
    "Z": "BF",
    "SH": "BF",
    "ZH": "BF",
    "HH": "ABCDEFGH",
    "M": "A",
    "N": "BCFH",
    "NG": "BCEF",
    "L": "BEFH",
    "R": "BEF",
    "Y": "BCF",
    "W": "F",
    "SIL": "XA",
}

# The shape Rhubarb's rules pick first for a phone. Diphthongs move between two
# targets; ``TARGETS`` gives (shape, fraction of the phone) pairs.
TARGETS = {
    "AO": (("E", 1.0),),
    "AA": (("D", 1.0),),
    "IY": (("B", 1.0),),
    "UW": (("F", 1.0),),
    "EH": (("C", 1.0),),
    "IH": (("B", 1.0),),
    "UH": (("F", 1.0),),
    "AH": (("C", 1.0),),
    "AH0": (("B", 1.0),),
    "AE": (("C", 1.0),),
    "EY": (("C", 0.6), ("B", 0.4)),
    "AY": (("D", 0.6), ("B", 0.4)),
    "OW": (("E", 0.5), ("F", 0.5)),
    "AW": (("D", 0.6), ("E", 0.4)),
    "OY": (("E", 0.6), ("B", 0.4)),
    "ER": (("E", 1.0),),
    "P": (("A", 1.0),),
    "B": (("A", 1.0),),
    "M": (("A", 1.0),),
    "F": (("G", 1.0),),
    "V": (("G", 1.0),),
    "L": (("H", 1.0),),
    "W": (("F", 1.0),),
    "SIL": (("X", 1.0),),
}
CONSONANT_SHAPE = "B"  # T D K G CH JH TH DH S Z SH ZH N NG R Y HH: teeth nearly together

# Consonants whose mouth is "whatever the neighbouring vowel needs": Rhubarb lets them
# take the next vowel's shape, which is how we anticipate in script mode.
FLEXIBLE = {"HH", "K", "G", "N", "NG", "L", "R", "Y", "T", "D"}

OCULUS = {
    "P": "PP",
    "B": "PP",
    "M": "PP",
    "F": "FF",
    "V": "FF",
    "TH": "TH",
    "DH": "TH",
    "T": "DD",
    "D": "DD",
    "K": "kk",
    "G": "kk",
    "NG": "kk",
    "HH": "kk",
    "CH": "CH",
    "JH": "CH",
    "SH": "CH",
    "ZH": "CH",
    "S": "SS",
    "Z": "SS",
    "N": "nn",
    "L": "nn",
    "R": "RR",
    "ER": "RR",
    "AA": "aa",
    "AE": "aa",
    "AH": "aa",
    "AH0": "aa",
    "AY": "aa",
    "AW": "aa",
    "EH": "E",
    "EY": "E",
    "IH": "ih",
    "IY": "ih",
    "Y": "ih",
    "AO": "oh",
    "OW": "oh",
    "OY": "oh",
    "UH": "ou",
    "UW": "ou",
    "W": "ou",
    "SIL": "sil",
}

# espeak-ng (en) phoneme mnemonics -> ARPAbet; a mnemonic may stand for two phones.
ESPEAK = {
    "_": ("SIL",),
    "_:": ("SIL",),
    "_!": ("SIL",),
    ";": ("SIL",),
    "||": ("SIL",),
    "|": ("SIL",),
    "a": ("AE",),
    "a#": ("AH0",),
    "aa": ("AA",),
    "A:": ("AA",),
    "A@": ("AA", "R"),
    "A#": ("AE",),
    "0": ("AA",),
    "O": ("AO",),
    "O:": ("AO",),
    "O@": ("AO", "R"),
    "o@": ("AO", "R"),
    "V": ("AH",),
    "@": ("AH0",),
    "@2": ("AH0",),
    "@5": ("AH0",),
    "@L": ("AH0", "L"),
    "@r": ("ER",),
    "3": ("ER",),
    "3:": ("ER",),
    "I": ("IH",),
    "I2": ("IH",),
    "I#": ("IH",),
    "i": ("IY",),
    "i:": ("IY",),
    "i@": ("IY", "ER"),
    "i@3": ("IY", "ER"),
    "E": ("EH",),
    "E2": ("EH",),
    "e@": ("EH", "R"),
    "eI": ("EY",),
    "aI": ("AY",),
    "aI@": ("AY", "ER"),
    "aI3": ("AY", "ER"),
    "aU": ("AW",),
    "aU@": ("AW", "ER"),
    "OI": ("OY",),
    "oU": ("OW",),
    "oU#": ("OW",),
    "U": ("UH",),
    "u:": ("UW",),
    "u": ("UW",),
    "U@": ("UH", "R"),
    "p": ("P",),
    "b": ("B",),
    "t": ("T",),
    "d": ("D",),
    "t#": ("T",),
    "d#": ("D",),
    "t2": ("T",),
    "d2": ("D",),
    "k": ("K",),
    "g": ("G",),
    "x": ("K",),
    "?": ("T",),
    "f": ("F",),
    "v": ("V",),
    "T": ("TH",),
    "D": ("DH",),
    "s": ("S",),
    "z": ("Z",),
    "S": ("SH",),
    "Z": ("ZH",),
    "h": ("HH",),
    "tS": ("CH",),
    "dZ": ("JH",),
    "m": ("M",),
    "n": ("N",),
    "N": ("NG",),
    "n-": ("N",),
    "m-": ("M",),
    "l": ("L",),
    "l/": ("L",),
    "L": ("L",),
    "r": ("R",),
    "r-": ("R",),
    "w": ("W",),
    "j": ("Y",),
    "C": ("HH",),
    "z#": ("Z",),
    "s#": ("S",),
}

# festival's radio phoneset is lowercase ARPAbet with a few extras.
FESTIVAL = {
    "pau": "SIL",
    "h#": "SIL",
    "brth": "SIL",
    "ax": "AH0",
    "axr": "ER",
    "dx": "T",
    "el": "L",
    "em": "M",
    "en": "N",
}


def espeak_to_arpabet(mnemonic: str) -> tuple[str, ...]:
    """ARPAbet phones for one espeak-ng phoneme mnemonic; unknown ones fall back on their letters."""
    if mnemonic in ESPEAK:
        return ESPEAK[mnemonic]
    stripped = mnemonic.rstrip("#:/-0123456789")
    if stripped in ESPEAK:
        return ESPEAK[stripped]
    return ("SIL",) if not stripped else ESPEAK.get(stripped[0], ("AH0",))


def festival_to_arpabet(name: str) -> str:
    name = FESTIVAL.get(name, name)
    return name if name in ALLOWED else name.upper() if name.upper() in ALLOWED else "SIL"


def primary_shapes(phone: str) -> tuple[tuple[str, float], ...]:
    """The shape(s) a phone shows on its own, as (shape, share of the phone's duration)."""
    return TARGETS.get(phone, ((CONSONANT_SHAPE, 1.0),))

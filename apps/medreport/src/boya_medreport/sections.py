"""Split a (normalised) dictation into sentences, each labelled with its report section.

Sectioned dictations say their headings ("Findings:", "Impression:"), in any order;
narrative ones signal sections with phrases ("The study was ordered for ...",
"In summary, ..."). Only ``findings`` and ``impression`` sentences go to the
extraction model: an indication such as "rule out pneumothorax" must never
become a finding.
"""

import re

HEADINGS = [  # (section, heading regex); a heading is these words followed by a colon (or a comma, see COMMA_SECTIONS)
    (
        "patient",
        r"patient name|patient|name|mrn|medical record number|medical record|date of birth|dob|birth date|sex|gender|age",
    ),
    ("exam", r"exam|examination|study|procedure|exam type|type of exam"),
    (
        "indication",
        r"indication|indications|clinical indication|clinical history|history|reason for exam|reason for study|reason for examination|clinical information",
    ),
    ("technique", r"technique"),
    ("comparison", r"comparison|comparisons"),
    ("findings", r"findings|finding|findings are as follows|report|body"),
    ("impression", r"impression|impressions|conclusion|conclusions|summary|assessment|opinion"),
    ("recommendation", r"recommendation|recommendations|plan|recommend|follow up|follow-up"),
]
_HEADING = re.compile(
    r"(?:(?<=^)|(?<=[.;\n]\s)|(?<=[.;\n]))\s*("
    + "|".join(f"(?P<{s}>{p})" for s, p in HEADINGS)
    + r")\s*(?P<sep>[:,])\s*",
    re.IGNORECASE,
)
# Sections a radiologist also opens with a comma ("Findings, there is ..." - "findings comma" dictated); the
# patient and exam words are not among them: "Patient, a 60 year old ..." and "Study, limited ..." are sentences.
COMMA_SECTIONS = {"indication", "technique", "comparison", "findings", "impression", "recommendation"}
_NOT_COMMA_HEADINGS = {"report", "body", "plan", "recommend"}  # words that also open ordinary sentences
_NARRATIVE = [
    (
        "indication",
        re.compile(
            r"^(?:the (?:study|exam|examination) (?:was|is) (?:ordered|requested|performed) (?:for|because of|to evaluate)|ordered for|requested for|reason for (?:the )?(?:exam|study) is|indication is|clinical history of)\s+",
            re.I,
        ),
    ),
    (
        "impression",
        re.compile(
            r"^(?:in summary|overall|in conclusion|to summarize|impression is|conclusion)\s*[,:]?\s*", re.I
        ),
    ),
    ("recommendation", re.compile(r"^(?:recommendation is|recommend(?:ed)?|suggest)\s*[,:]?\s*(?=\w)", re.I)),
]
_PATIENT_CUE = re.compile(
    r"\b(?:medical record|mrn|date of birth|dob|born|birth date|patient|record number)\b", re.I
)
_ABBREVIATIONS = ("dr.", "st.", "mr.", "mrs.", "ms.", "vs.", "e.g.", "i.e.", "approx.", "no.")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(]?[A-Z0-9])")
_NUMBERING = re.compile(r"^\(?\d{1,2}[.)]\s+")


def sentences(text: str) -> list[str]:
    """Sentences of a chunk; not split after abbreviations (Dr., St.) or inside decimals."""
    pieces = []
    for piece in _SENTENCE_END.split(text.strip()):
        if pieces and (
            pieces[-1].lower().endswith(_ABBREVIATIONS) or re.fullmatch(r"\(?\d{1,2}[.)]", pieces[-1])
        ):
            pieces[-1] += " " + piece
        else:
            pieces.append(piece)
    return [p.strip() for p in (_NUMBERING.sub("", piece) for piece in pieces) if p.strip(" .")]


def split_sections(text: str) -> list[tuple[str, str]]:
    """``(section, sentence)`` pairs in dictation order; unheaded text is classified sentence by sentence."""
    text = " ".join(text.replace("\n", " \n ").split(" ")).strip()
    chunks: list[tuple[str | None, str]] = []
    last_end, last_section = 0, None
    for match in _HEADING.finditer(text):
        section = next(s for s, _ in HEADINGS if match.group(s))
        if match["sep"] == "," and (
            section not in COMMA_SECTIONS or match.group(section).lower() in _NOT_COMMA_HEADINGS
        ):
            continue
        chunks.append((last_section, text[last_end : match.start()]))
        last_section = section
        # patient headings stay with their value: the header patterns read "MRN: 123" by its cue
        last_end = match.start() if section == "patient" else match.end()
    chunks.append((last_section, text[last_end:]))
    labelled = []
    for section, chunk in chunks:
        for sentence in sentences(chunk):
            labelled.append((section or classify(sentence, bool(labelled)), sentence))
    return labelled


def classify(sentence: str, seen_any: bool) -> str:
    """The section of a sentence that came without a heading (narrative dictation)."""
    for section, cue in _NARRATIVE:
        if cue.match(sentence):
            return section
    if _PATIENT_CUE.search(sentence) and re.search(
        r"\b(?:mrn|medical record|born|date of birth|dob|record number)\b", sentence, re.I
    ):
        return "patient"
    # a heading the recogniser misheard ("Procedure:" as "Arcedra:" or "Proceed to:") still opens the exam sentence
    if re.match(
        r"^(?:[a-z]+(?: [a-z]+)?:\s*)?(?:this is (?:an?|the)\s|(?:an?|the)\s+)?(?:ct|mri?|x-?rays?|radiographs?|ultrasound|sonogram|sonography|duplex|computed tomography|magnetic resonance|plain films?|cat scan)\b",
        sentence,
        re.I,
    ):
        return "exam"
    return "findings"


def strip_cue(section: str, sentence: str) -> str:
    """The sentence without a narrative cue ("In summary, X" -> "X")."""
    for name, cue in _NARRATIVE:
        if name == section:
            return cue.sub("", sentence, count=1)
    return sentence

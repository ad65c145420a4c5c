import pytest
from boya_medreport import header, sections


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            "Patient Carlos Brown, medical record number six four four six nine four two one, date of birth 9/4/1944, male.",
            {"name": "Carlos Brown", "mrn": "64469421", "birth_date": "1944-09-04", "sex": "male"},
        ),
        (
            "This is a CT of the head for Mary Ann Van Dijk, a female patient, MRN 0042, born June 4, 1959.",
            {"name": "Mary Ann Van Dijk", "mrn": "0042", "birth_date": "1959-06-04", "sex": "female"},
        ),
        (
            "Patient name: Omar O'Brien. MRN: 1234567. DOB: 28 February 1950. Sex: M.",
            {"name": "Omar O'Brien", "mrn": "1234567", "birth_date": "1950-02-28", "sex": "male"},
        ),
        (
            "Patient Ana Costa, MRN four oh two nine nine one, born the fourth of March nineteen eighty four, woman.",
            {"name": "Ana Costa", "mrn": "402991", "birth_date": "1984-03-04", "sex": "female"},
        ),
        (
            "Patient Ana Costa, a 45-year-old women, MRN 402991.",  # Whisper's usual hearing of "woman"
            {"name": "Ana Costa", "mrn": "402991", "birth_date": None, "sex": "female"},
        ),
        (
            "Patient Li Wei, 60-year-old men, MRN 77.",
            {"name": "Li Wei", "mrn": "77", "birth_date": None, "sex": "male"},
        ),
        # the surname written "St. Clair" is dictated "Saint Clair"
        (
            "Patient is Paloma Saint Clair, a male patient, MRN 3765.",
            {"name": "Paloma St. Clair", "mrn": "3765", "birth_date": None, "sex": "male"},
        ),
        # a first name written lower-case by the recogniser; not an article before a misheard name
        (
            "This is ingrid Lopez, woman, born on December 27, 1981.",
            {"name": "Ingrid Lopez", "mrn": None, "birth_date": "1981-12-27", "sex": "female"},
        ),
        (
            "This is a Nike Rossi, female, MRN 42.",
            {"name": None, "mrn": "42", "birth_date": None, "sex": "female"},
        ),
        (
            "This is Chloe St Clair, woman, MRN 3765.",
            {"name": "Chloe St. Clair", "mrn": "3765", "birth_date": None, "sex": "female"},
        ),
    ],
)
def test_patient_fields(text, expected):
    assert header.patient_fields(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("MRI of the left shoulder", ("MR", "shoulder", "left", None)),
        ("CT of the abdomen and pelvis non-contrast", ("CT", "abdomen and pelvis", None, False)),
        ("CT of the chest with and without contrast", ("CT", "chest", None, True)),
        (
            "duplex ultrasound of the bilateral lower extremity veins",
            ("US", "lower extremity veins", "bilateral", None),
        ),
        ("chest x-ray.", ("XR", "chest", None, None)),
        # modality words as the recogniser garbles them, and "noncontrast" heard as "on contrast"
        ("C-8-C scan head without contrast", ("CT", "head", None, False)),
        ("C80 scan of the thorax on contrast", ("CT", "chest", None, False)),
        ("CT of the abdomen none contrast", ("CT", "abdomen", None, False)),
        ("This is a C-A-T scan cervical spine", ("CT", "cervical spine", None, None)),
        ("MRQS cervical spine", ("MR", "cervical spine", None, None)),
        # "MRI scan" heard as "-ris" + "skin" ("wrist" is a body part: only read so when another one follows)
        ("an crease kin of the head with and without contrast", ("MR", "head", None, True)),
        ("Wrist skin of the left ankle post contrast", ("MR", "ankle", "left", True)),
        ("Wrist can right knee", ("MR", "knee", "right", None)),
        ("Rhys Ken of the brain", ("MR", "head", None, None)),
        ("MRN skin of the left knee", ("MR", "knee", "left", None)),
        ("wrist scan", (None, "wrist", None, None)),
        ("X-rays of the left wrist skin", ("XR", "wrist", "left", None)),
        ("x-rayest of the chest", ("XR", "chest", None, None)),
        ("This is NX-Rays right wrist", ("XR", "wrist", "right", None)),
        ("the cinematography left leg veins", ("US", "lower extremity veins", "left", None)),
        ("Synography left leg veins", ("US", "lower extremity veins", "left", None)),
        ("angiography of the chest", (None, "chest", None, None)),
        ("Patient Ana Costa, MRN 402991, born June 4, 1959", (None, None, None, None)),
        ("CT of the dominant pelvis without IV contrast", ("CT", "abdomen and pelvis", None, False)),
    ],
)
def test_exam_fields(text, expected):
    fields = header.exam_fields(text)
    assert (fields["modality"], fields["body_part"], fields["laterality"], fields["contrast"]) == expected


def test_sections_in_any_order_and_narrative_cues():
    labelled = sections.split_sections(
        "Impression: pneumothorax. Exam: chest x-ray. Findings: No effusion. Indication: rule out pneumothorax."
    )
    assert [s for s, _ in labelled] == ["impression", "exam", "findings", "indication"]
    narrative = sections.split_sections(
        "This is a CT of the head for Ann Lee, MRN 12. The study was ordered for headache. No bleed. In summary, normal."
    )
    assert [s for s, _ in narrative] == ["patient", "indication", "findings", "impression"]


def test_sentences_keep_decimals_and_abbreviations():
    assert sections.sentences("A 1.2 cm nodule. Seen by Dr. Smith today. 2. No effusion.") == [
        "A 1.2 cm nodule.",
        "Seen by Dr. Smith today.",
        "No effusion.",
    ]


def test_exam_sentence_behind_a_misheard_heading():
    # "Procedure:" heard as "Proceed to:" still opens the exam, before any heading the sections know
    labelled = sections.split_sections(
        "This is Ana Costa, male, MRN 123. Proceed to: X-rays right shoulder. Findings, no fracture."
    )
    assert ("exam", "Proceed to: X-rays right shoulder.") in labelled
    assert (
        sections.classify("Proceed direct: Sonography of the right lower extremity venous.", True) == "exam"
    )
    assert (
        header.patient_fields("Ana Costa, male, born under December 19, 1965.")["birth_date"] == "1965-12-19"
    )

import pytest
from boya_medreport.normalize import normalize


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        # dictation commands, typed or as a recogniser writes them (with its own punctuation around)
        ("there is a nodule period no effusion period", "There is a nodule. No effusion."),
        ("small effusion comma stable period", "Small effusion, stable."),
        ("Small effusion, comma, stable. Period.", "Small effusion, stable."),
        ("findings colon no pneumothorax period", "Findings: No pneumothorax."),
        ("Findings, colon. No pneumothorax.", "Findings: No pneumothorax."),
        (
            "no acute process period new paragraph impression colon normal",
            "No acute process.\n\nImpression: Normal",
        ),
        ("no acute process new line recommendation colon none", "No acute process\nRecommendation: None"),
        ("mild atelectasis semicolon small effusion", "Mild atelectasis; small effusion"),
        # scratch that: the last phrase goes, back to the previous punctuation mark
        ("there is a nodule scratch that there is a mass period", "There is a mass."),
        (
            "no effusion period there is a nodule in the left lobe scratch that right lobe period",
            "No effusion. Right lobe.",
        ),
        ("no effusion period scratch that no pneumothorax period", "No pneumothorax."),
        ("findings colon mass scratch that nodule", "Findings: Nodule"),
        # the words themselves are kept where they are not commands
        ("diverticulitis in the sigmoid colon period", "Diverticulitis in the sigmoid colon."),
        ("stable over a period of two years", "Stable over a period of two years"),
        ("in the postoperative period", "In the postoperative period"),
        ("this may represent atelectasis", "This may represent atelectasis"),
        # numbers, sizes and units
        ("twelve by nine millimeters", "12 x 9 mm"),
        ("a twelve point five millimeter nodule", "A 12.5 mm nodule"),
        ("point five centimeter", "0.5 cm"),
        ("a two by three by four centimeter mass", "A 2 x 3 x 4 cm mass"),
        ("There is a 12 by 9 millimeter nodule.", "There is a 12 x 9 mm nodule."),
        ("one point two centimeters", "1.2 cm"),
        ("twenty-four millimeters", "24 mm"),
        ("a 12mm module and a 1.5cm mass", "A 12 mm module and a 1.5 cm mass"),
        ("three hundred and twelve", "312"),
        ("three point one x1 point three x1 point two centimeter", "3.1 x 1.3 x 1.2 cm"),  # Whisper's "x one"
        ("two nodules", "Two nodules"),
        # dates
        ("born march third nineteen eighty four", "Born March 3, 1984"),
        ("date of birth the third of march nineteen eighty four", "Date of birth March 3, 1984"),
        ("dob june twenty first, two thousand five", "Dob June 21, 2005"),
        ("born May 8, 1984.", "Born May 8, 1984."),
        ("born october nine nineteen oh five", "Born October 9, 1905"),
        ("compared with twenty twenty four", "Compared with 2024"),
        # a year half heard after a month and day: "-teen" as "-ty", or the decade's "-ty" dropped
        ("born April fourteen ninety eighty two comma", "Born April 14, 1982,"),
        ("born October twenty eighth comma nineteen four eight comma MRN", "Born October 28, 1948, MRN"),
        ("born October 28, 19 4 8", "Born October 28, 1948"),
        ("born the third of August 19 84 comma", "Born August 3, 1984,"),
        ("born October twentyest comma two thousand eight", "Born October 20, 2008"),
        ("date of birth March thirdth comma nineteen seventy seven", "Date of birth March 30, 1977"),
        ("ninety eighty two patients", "90 82 patients"),  # only where a date is due
        # a day of twenty or thirty before a "two thousand" year is a day and a year, not one number
        ("born July thirty two thousand four comma", "Born July 30, 2004,"),
        ("born July twenty two thousand and five", "Born July 20, 2005"),
        ("born July twenty one two thousand four", "Born July 21, 2004"),
        ("a lesion of thirty two thousand four", "A lesion of 32004"),
        # record numbers
        ("M R N one two three four five six", "MRN 123456"),
        ("MRN 1-2-3-4-5-6, date of birth", "MRN 123456, date of birth"),
        ("medical record number seven three one oh five", "Medical record number 73105"),
        ("MRN colon four four two one nine", "MRN: 44219"),
        ("medical record, number 4 6 1 4 3, period", "Medical record, number 46143."),
        ("seven three one five seven three nine zero nine", "731573909"),
        # vertebral levels
        ("disc herniation at C five C six", "Disc herniation at C5-C6"),
        ("stenosis at L5 S1 and L-4, L-5", "Stenosis at L5-S1 and L4-L5"),
        ("herniation at L3L4 period", "Herniation at L3-L4."),
        ("pulposus and l-5-S1 period", "Pulposus and L5-S1."),
        # phrases the recogniser writes as other English, rewritten only where they have no other reading
        ("Findings comma no two is a bulky adenopathy", "Findings, noted is a bulky adenopathy"),
        ("No did is a fracture period", "Noted is a fracture."),
        ("acute in fact in the left frontal lobe", "Acute infarct in the left frontal lobe"),
        ("no sign of narrow no of the spinal canal", "No sign of narrowing of the spinal canal"),
        ("narrow of the spinal canal; a narrow neck", "Narrowing of the spinal canal; a narrow neck"),
        ("no two are alike, in fact, no did", "No two are alike, in fact, no did"),
        ("Comminuted fracture colon non period", "Comminuted fracture: None."),
        # already written text passes through unchanged
        (
            "Exam: CT of the chest. Findings: 6 x 5 mm nodule at C5-C6.",
            "Exam: CT of the chest. Findings: 6 x 5 mm nodule at C5-C6.",
        ),
    ],
)
def test_normalize(spoken, written):
    assert normalize(spoken) == written


def test_normalize_empty_and_command_only():
    assert normalize("") == ""
    assert normalize("scratch that") == ""
    assert normalize("period") == "."


def test_normalize_keeps_hl7_delimiters_as_text():
    # escaping is the report stage's job; normalisation must not drop or reinterpret them
    assert normalize("value | 5 ^ 3") == "Value | 5 ^ 3"


def test_unpunctuated_transcript_gets_its_section_headings():
    spoken = "Patient name John Smith MRN 1234567 CT of the chest without contrast Findings no pneumothorax Impression normal chest"
    assert normalize(spoken).endswith("without contrast. Findings: No pneumothorax. Impression: Normal chest")
    assert normalize("The Findings are stable") == "The Findings are stable"
    assert (
        normalize("Findings: no effusion. Impression normal.") == "Findings: No effusion. Impression normal."
    )

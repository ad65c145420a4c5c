"""Stage 6a: the structured report as an HL7 v2.5 ORU^R01 message, built with hl7apy and validated three ways.

Layout: MSH, PID (MRN, name, birth date, sex), PV1, ORC + OBR (the exam), then OBX:
one CE OBX per finding (coded observation, value ``Y``/``N`` presence, abnormal flag
``AA`` for a critical present finding, ``A`` other present, ``N`` absent), with the same
sub-ID (OBX-4) a CE OBX for a hedge (``POSSIBLE``), one for its location and an NM OBX
for its size in UCUM ``mm``;
then TX OBXs for the indication, impression and recommendation (LOINC narrative codes).
Observation, location and exam codes are local (coding system ``L``): the vocabulary's
names, not SNOMED/CPT, which we cannot ship.

Validation (:func:`validate`): hl7apy STRICT (structure, required fields, lengths, dates),
then our own checks for what hl7apy lets through (empty required fields, OBX-5 vs OBX-2
type, tables 0085/0125/0078/0001/0136, segment order as sent), then a cross-parse with
python-hl7. Every free-text value is HL7-escaped; read values are unescaped.
"""

import datetime
import hashlib
import re

from boya.errors import BoyaError

ENCODING = {"field": "|", "component": "^", "repetition": "~", "escape": "\\", "subcomponent": "&"}
TABLE_0125 = {
    "AD",
    "CE",
    "CF",
    "CK",
    "CN",
    "CP",
    "CWE",
    "CX",
    "DT",
    "DTM",
    "ED",
    "FT",
    "ID",
    "MO",
    "NM",
    "PN",
    "RP",
    "SN",
    "ST",
    "TM",
    "TN",
    "TS",
    "TX",
    "XAD",
    "XCN",
    "XON",
    "XPN",
    "XTN",
}
TABLE_0085 = {"C", "D", "F", "I", "N", "O", "P", "R", "S", "U", "W", "X"}
TABLE_0078 = {
    "L",
    "H",
    "LL",
    "HH",
    "<",
    ">",
    "N",
    "A",
    "AA",
    "U",
    "D",
    "B",
    "W",
    "S",
    "R",
    "I",
    "MS",
    "VS",
    "NULL",
    "",
}
TABLE_0001 = {"F", "M", "O", "U", "A", "N"}
TABLE_0136 = {"Y", "N"}
NARRATIVE = {
    "indication": ("18785-6", "Radiology Reason for study"),
    "impression": ("19005-8", "Radiology Impression"),
    "recommendation": ("18783-1", "Radiology Study recommendation"),
}
SEX = {"female": "F", "male": "M", "unknown": "U", None: "U"}
_ORDER = re.compile(r"^MSH(SFT)*PID(PD1)?(NTE)*(PV1(PV2)?)?((ORC)?OBR(NTE)*(OBX(NTE)*)*)+(DSC)?$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_PARTICLES = {"van", "de", "der", "von", "da", "del", "di", "la", "le", "st.", "st", "al", "bin", "ibn"}


def escape(text) -> str:
    """HL7 escape sequences for the delimiters; line breaks and other control characters become spaces."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", str(text))
    return (
        text.replace("\\", "\\E\\")
        .replace("|", "\\F\\")
        .replace("^", "\\S\\")
        .replace("&", "\\T\\")
        .replace("~", "\\R\\")
    )


def unescape(text: str) -> str:
    return re.sub(
        r"\\([EFSTR])\\", lambda m: {"E": "\\", "F": "|", "S": "^", "T": "&", "R": "~"}[m.group(1)], text
    )


def split_name(name: str) -> tuple[str, str]:
    """(family, given): the last word plus any particle before it ("Van Dijk", "St. Clair") is the family name."""
    words = name.split()
    if len(words) < 2:
        return name, ""
    cut = len(words) - 1
    while cut > 1 and words[cut - 1].lower() in _PARTICLES:
        cut -= 1
    return " ".join(words[cut:]), " ".join(words[:cut])


def exam_code(exam: dict) -> tuple[str, str]:
    """Local OBR-4 code and text, e.g. ``CT-HEAD-WO`` / ``CT head without contrast``."""
    modality, part = exam.get("modality") or "OT", exam.get("body_part") or "unspecified"
    side, contrast = exam.get("laterality"), exam.get("contrast")
    code = "-".join(
        p
        for p in [
            modality,
            (side or "")[:1].upper(),
            re.sub(r"\W+", "", part.upper())[:12],
            {True: "W", False: "WO", None: ""}[contrast],
        ]
        if p
    )
    text = " ".join(
        p
        for p in [
            modality,
            side,
            part,
            {True: "with contrast", False: "without contrast", None: ""}[contrast],
        ]
        if p
    )
    return code, text


def _code(name: str) -> str:
    """A local code: the name's ASCII letters and digits (``LEFT-UPPER-LOBE``). A name with none, such as
    ``左上叶``, gets ``X`` + 8 hex digits of its SHA-256, the same in every message, since CE-1 cannot be empty."""
    return (
        re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")[:20]
        or "X" + hashlib.sha256(name.encode()).hexdigest()[:8].upper()
    )


def build_oru(
    report: dict,
    control_id: str,
    *,
    accession: str | None = None,
    status: str = "F",
    when: datetime.datetime | None = None,
    sending_facility: str = "RADIOLOGY",
    receiving_application: str = "RIS",
    receiving_facility: str = "HOSPITAL",
) -> str:
    """The report as an ER7 ORU^R01 string (segments separated by ``\\r``), built by hl7apy at STRICT level.

    It is not validated here: every sender and preview runs :func:`validate` on the string, which
    parses it back and validates it STRICT (the same check, plus the round trip and our own checks).
    """
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.core import Message
    from hl7apy.exceptions import HL7apyException

    patient, exam = report.get("patient") or {}, report.get("exam") or {}
    if not patient.get("mrn") or not patient.get("name"):
        raise BoyaError("the report needs the patient's name and MRN before an HL7 message can be built")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,20}", control_id):
        raise BoyaError(f"message control id {control_id!r} must be 1-20 letters, digits, '.', '_' or '-'")
    when = when or datetime.datetime.now()
    stamp = when.strftime("%Y%m%d%H%M%S")
    try:
        m = Message("ORU_R01", version="2.5", validation_level=VALIDATION_LEVEL.STRICT)
        m.msh.msh_3 = "BOYA-MEDREPORT"
        m.msh.msh_4 = escape(sending_facility)
        m.msh.msh_5 = escape(receiving_application)
        m.msh.msh_6 = escape(receiving_facility)
        m.msh.msh_7 = stamp
        m.msh.msh_9 = "ORU^R01^ORU_R01"
        m.msh.msh_10 = control_id
        m.msh.msh_11 = "P"
        m.msh.msh_12 = "2.5"
        result = m.add_group("ORU_R01_PATIENT_RESULT")
        pat = result.add_group("ORU_R01_PATIENT")
        pat.pid.pid_1 = "1"
        pat.pid.pid_3 = f"{escape(patient['mrn'])}^^^{escape(sending_facility)}^MR"
        family, given = split_name(patient["name"])
        pat.pid.pid_5 = f"{escape(family)}^{escape(given)}"
        if patient.get("birth_date"):
            pat.pid.pid_7 = patient["birth_date"].replace("-", "")
        pat.pid.pid_8 = SEX.get(patient.get("sex"), "U")
        pat.add_group("ORU_R01_VISIT").pv1.pv1_2 = "U"
        order = result.add_group("ORU_R01_ORDER_OBSERVATION")
        accession = escape(accession or control_id)
        order.orc.orc_1 = "RE"
        order.orc.orc_2 = accession
        order.orc.orc_3 = accession
        order.orc.orc_5 = "CM"
        code, text = exam_code(exam)
        order.obr.obr_1 = "1"
        order.obr.obr_2 = accession
        order.obr.obr_3 = accession
        order.obr.obr_4 = f"{escape(code)}^{escape(text)}^L"
        order.obr.obr_7 = stamp
        order.obr.obr_22 = stamp
        order.obr.obr_24 = {"CT": "CT", "MR": "MR", "XR": "RAD", "US": "US"}.get(exam.get("modality"), "RAD")
        order.obr.obr_25 = status
        rows = []
        for i, f in enumerate(report.get("findings") or [], 1):
            flag = ("AA" if report.get("critical") and _is_critical(f) else "A") if f["present"] else "N"
            rows.append(
                (
                    "CE",
                    f"{_code(f['observation'])}^{escape(f['observation'])}^L",
                    str(i),
                    "Y^present^HL70136" if f["present"] else "N^absent^HL70136",
                    None,
                    flag,
                )
            )
            if f.get("certainty") == "possible":
                rows.append(
                    ("CE", "CERTAINTY^Certainty^L", str(i), "POSSIBLE^possible (hedged)^L", None, None)
                )
            if f.get("location"):
                rows.append(
                    (
                        "CE",
                        "SITE^Finding site^L",
                        str(i),
                        f"{_code(f['location'])}^{escape(f['location'])}^L",
                        None,
                        None,
                    )
                )
            if f.get("size_mm") is not None:
                rows.append(
                    (
                        "NM",
                        "SIZE^Largest dimension^L",
                        str(i),
                        f"{float(f['size_mm']):g}",
                        "mm^millimeter^UCUM",
                        None,
                    )
                )
        for key, (loinc, name) in NARRATIVE.items():
            if report.get(key):
                rows.append(
                    (
                        "TX",
                        f"{loinc}^{name}^LN",
                        None,
                        escape(report[key]),
                        None,
                        "AA" if key == "impression" and report.get("critical") else None,
                    )
                )
        for n, (value_type, identifier, sub_id, value, units, flag) in enumerate(rows, 1):
            obx = order.add_group("ORU_R01_OBSERVATION").obx
            obx.obx_1 = str(n)
            obx.obx_2 = value_type
            obx.obx_3 = identifier
            if sub_id:
                obx.obx_4 = sub_id
            obx.obx_5 = value
            if units:
                obx.obx_6 = units
            if flag:
                obx.obx_8 = flag
            obx.obx_11 = status
            obx.obx_14 = stamp
    except HL7apyException as error:
        raise BoyaError(
            f"cannot build a valid HL7 message from this report: {type(error).__name__}: {error}"
        ) from None
    return m.to_er7()


def _is_critical(finding) -> bool:
    from .vocabulary import is_critical

    return is_critical(finding["observation"])


def segments(er7: str) -> list[list[str]]:
    """Raw segments split on ``\\r`` (any ``\\n`` tolerated), each as its list of fields."""
    return [seg.split("|") for seg in re.split(r"\r\n|\r|\n", er7.strip()) if seg]


def _field(seg: list[str], n: int) -> str:
    """Field ``n`` of a segment (MSH counts its field separator as field 1)."""
    index = n - 1 if seg[0] == "MSH" else n
    return seg[index] if index < len(seg) else ""


def own_checks(er7: str) -> list[str]:
    """What hl7apy STRICT lets through: empty required fields, OBX-5 vs OBX-2, HL7 tables, segment order."""
    problems = []
    segs = segments(er7)
    names = "".join(s[0] for s in segs)
    if not _ORDER.match(names):
        problems.append(
            f"segment order {'-'.join(s[0] for s in segs)} does not follow ORU^R01 (MSH PID [PV1] [ORC] OBR OBX...)"
        )
    required = {"MSH": [7, 9, 10, 11, 12], "PID": [3, 5], "OBR": [4, 25], "OBX": [2, 3, 11]}
    for seg in segs:
        for n in required.get(seg[0], []):
            if not _field(seg, n).strip().strip("^"):
                problems.append(f"{seg[0]}-{n} is empty")
    obx_ids = []
    for seg in segs:
        if seg[0] == "PID" and _field(seg, 8) and _field(seg, 8) not in TABLE_0001:
            problems.append(f"PID-8 {_field(seg, 8)!r} is not in HL7 table 0001")
        if seg[0] != "OBX":
            continue
        set_id, value_type, value, flags, status = (
            _field(seg, 1),
            _field(seg, 2),
            _field(seg, 5),
            _field(seg, 8),
            _field(seg, 11),
        )
        obx_ids.append(set_id)
        where = f"OBX {set_id or '?'}"
        if value_type not in TABLE_0125:
            problems.append(f"{where}: OBX-2 {value_type!r} is not in HL7 table 0125")
        if status not in TABLE_0085:
            problems.append(f"{where}: OBX-11 {status!r} is not in HL7 table 0085")
        for flag in flags.split("~"):
            if flag not in TABLE_0078:
                problems.append(f"{where}: OBX-8 {flag!r} is not in HL7 table 0078")
        for rep in value.split("~"):
            if value_type == "NM" and not _NUMBER.match(rep):
                problems.append(f"{where}: OBX-5 {rep!r} is not a number (OBX-2 is NM)")
            elif value_type in ("CE", "CWE") and not rep.split("^")[0]:
                problems.append(f"{where}: OBX-5 {rep!r} has no code (OBX-2 is {value_type})")
            elif value_type in ("DT",) and not re.fullmatch(r"\d{4}(\d{2}(\d{2})?)?", rep):
                problems.append(f"{where}: OBX-5 {rep!r} is not a date (OBX-2 is DT)")
            elif value_type in ("TX", "ST", "FT") and not rep.strip():
                problems.append(f"{where}: OBX-5 is empty")
        if value_type == "NM" and not _field(seg, 6).strip("^"):
            problems.append(f"{where}: numeric OBX without units (OBX-6)")
        if (
            _field(seg, 3).endswith("^HL70136") is False
            and value_type == "CE"
            and value.endswith("^HL70136")
            and value.split("^")[0] not in TABLE_0136
        ):
            problems.append(f"{where}: OBX-5 {value!r} is not in HL7 table 0136")
    if obx_ids != [str(i) for i in range(1, len(obx_ids) + 1)]:
        problems.append(f"OBX set ids {obx_ids} are not 1..n in order")
    return problems


def validate(er7: str) -> list[str]:
    """All problems of a message: hl7apy STRICT parse + validate, our own checks, python-hl7 parse. Empty when valid."""
    import hl7 as python_hl7
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message

    er7 = "\r".join(re.split(r"\r\n|\r|\n", er7.strip()))
    problems = []
    try:
        message = parse_message(er7, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
        message.validate()
    except Exception as error:  # noqa: BLE001 - hl7apy raises many types; each is a validation finding
        problems.append(f"hl7apy: {type(error).__name__}: {error}")
    problems += own_checks(er7)
    try:
        python_hl7.parse(er7)
    except Exception as error:  # noqa: BLE001
        problems.append(f"python-hl7: {type(error).__name__}: {error}")
    return problems


def _component(field, repetition: int, component: int) -> str:
    """One component of a python-hl7 field, which is a plain string when the value has no ``^`` in it."""
    if isinstance(field, str):
        return field if (repetition, component) == (1, 1) else ""
    try:
        value = field(repetition)
        return (value if component == 1 else "") if isinstance(value, str) else str(value(component))
    except IndexError:
        return ""


def read_oru(er7: str) -> dict:
    """The report fields an ORU carries, read back with python-hl7 (a second parser): patient, exam code, findings, narrative."""
    import hl7 as python_hl7

    message = python_hl7.parse("\r".join(re.split(r"\r\n|\r|\n", er7.strip())))
    pid = message.segment("PID")
    family, given = unescape(_component(pid(5), 1, 1)), unescape(_component(pid(5), 1, 2))
    birth = str(pid(7))
    report = {
        "control_id": str(message.segment("MSH")(10)),
        "patient": {
            "mrn": unescape(_component(pid(3), 1, 1)),
            "name": f"{given} {family}".strip(),
            "birth_date": f"{birth[:4]}-{birth[4:6]}-{birth[6:8]}" if len(birth) >= 8 else None,
            "sex": {v: k for k, v in SEX.items() if k}.get(str(pid(8))),
        },
        "exam_code": unescape(str(message.segment("OBR")(4)(1)(1))),
        "findings": [],
        "narrative": {},
    }
    by_sub = {}
    observations = [
        segment for segment in message if str(segment(0)) == "OBX"
    ]  # none in a report without findings or text
    for obx in observations:
        value_type, code, sub_id, value = str(obx(2)), str(obx(3)(1)(1)), str(obx(4)), obx(5)
        if code == "SITE":
            by_sub[sub_id]["location"] = unescape(str(value(1)(2)))
        elif code == "CERTAINTY":
            by_sub[sub_id]["certainty"] = "possible"
        elif code == "SIZE":
            by_sub[sub_id]["size_mm"] = float(str(value))
        elif value_type == "CE":
            finding = {
                "observation": unescape(str(obx(3)(1)(2))),
                "present": str(value(1)(1)) == "Y",
                "location": None,
                "size_mm": None,
                "abnormal_flag": str(obx(8)),
            }
            by_sub[sub_id] = finding
            report["findings"].append(finding)
        else:
            key = next((k for k, (loinc, _) in NARRATIVE.items() if loinc == code), code)
            report["narrative"][key] = unescape(str(value))
    return report

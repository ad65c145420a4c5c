"""A generator of synthetic radiology dictations with their gold structured reports.

No redistributable dictation corpus exists offline, so the extraction model learns
from text this module writes. Surface variation is the point: many phrasings per
slot, negation and pseudo-negation cues, one negation over a list, hedges,
sizes in mm/cm and "12 by 9", laterality, reordered sections, spoken numbers and
dictation commands, redactions (``XXXX``) and normal statements that name no finding.

Every phrasing list is split by position: ``split="train"`` draws from the first
three quarters of each list, ``split="heldout"`` prefers the last quarter, so a
held-out set measures phrasings the model never saw (generalisation, not memory).

Two levels:
- :func:`finding_sentence` writes one sentence and its linearised target (what
  the model learns, see :mod:`boya_medreport.extract.linearize`);
- :func:`dictation` writes a whole dictation and its gold report (what ``eval`` scores).
"""

import datetime
import math
import random
import re

from . import vocabulary as vocab

Finding = dict  # {"observation", "status": present|absent|possible, "location", "size": "12 x 9 mm" | None}

# ---------------------------------------------------------------- phrasing lists


def pick(rng: random.Random, options, split: str):
    """One option; train sees the first 3/4 of the list, heldout mostly the rest."""
    options = list(options)
    if len(options) < 4:
        return rng.choice(options)
    cut = math.ceil(len(options) * 0.75)
    if split == "train":
        return rng.choice(options[:cut])
    if split == "heldout" and rng.random() < 0.7:
        return rng.choice(options[cut:])
    return rng.choice(options)


# Surface forms beyond the vocabulary's synonyms: how radiologists also say it.
EXTRA_SURFACES = {
    "pulmonary nodule": [
        "nodular opacity",
        "small nodule",
        "solid nodule",
        "pulmonary nodules",
        "noncalcified nodule",
        "spiculated nodule",
    ],
    "pulmonary mass": ["masslike opacity", "large mass", "mass lesion", "lung lesion"],
    "consolidation": [
        "airspace opacity",
        "infiltrate",
        "focal consolidation",
        "airspace consolidation",
        "patchy opacity",
        "focal airspace disease",
        "alveolar opacities",
    ],
    "pleural effusion": [
        "pleural effusions",
        "effusions",
        "blunting of the costophrenic angle",
        "small pleural effusion",
        "layering effusion",
    ],
    "pneumothorax": ["pneumothoraces", "small pneumothorax", "apical pneumothorax", "tension pneumothorax"],
    "atelectasis": [
        "atelectatic change",
        "subsegmental atelectasis",
        "bibasilar atelectasis",
        "plate-like atelectasis",
        "discoid atelectasis",
        "volume loss",
    ],
    "cardiomegaly": [
        "cardiac enlargement",
        "enlarged cardiomediastinal silhouette",
        "mild cardiomegaly",
        "enlarged heart size",
        "heart enlargement",
    ],
    "pulmonary edema": [
        "edema",
        "alveolar edema",
        "vascular congestion with edema",
        "interstitial pulmonary edema",
        "mild pulmonary edema",
    ],
    "pulmonary embolism": [
        "filling defect in the pulmonary arteries",
        "pulmonary embolus",
        "saddle embolus",
        "pulmonary arterial emboli",
    ],
    "lymphadenopathy": [
        "enlarged nodes",
        "lymph node enlargement",
        "bulky adenopathy",
        "pathologically enlarged lymph nodes",
    ],
    "rib fracture": ["rib fractures", "fractured ribs", "displaced rib fracture", "healing rib fracture"],
    "intracranial hemorrhage": [
        "intraparenchymal hemorrhage",
        "acute hemorrhage",
        "acute intracranial hemorrhage",
        "hemorrhagic focus",
    ],
    "acute infarct": [
        "acute ischemic infarct",
        "restricted diffusion consistent with infarct",
        "acute cerebral infarct",
        "ischemic stroke",
    ],
    "midline shift": [
        "shift of midline structures",
        "rightward midline shift",
        "leftward midline shift",
        "subfalcine shift",
    ],
    "hydrocephalus": ["enlarged ventricles", "ventricular enlargement", "dilated ventricles"],
    "small vessel ischemic change": [
        "microvascular ischemic change",
        "chronic microvascular disease",
        "white matter hypodensities",
        "small vessel disease",
    ],
    "appendicitis": ["acute appendicitis", "dilated inflamed appendix", "periappendiceal inflammation"],
    "free air": ["free intraperitoneal gas", "extraluminal air", "subdiaphragmatic free air"],
    "bowel obstruction": [
        "dilated small bowel loops with transition point",
        "mechanical obstruction",
        "high grade obstruction",
    ],
    "kidney stone": [
        "renal calculi",
        "kidney stones",
        "calculus",
        "obstructing stone",
        "nonobstructing stone",
    ],
    "hydronephrosis": ["pelvicaliectasis", "mild hydronephrosis", "collecting system dilatation"],
    "gallstones": ["cholelithiasis with stones", "stones in the gallbladder", "multiple gallstones"],
    "hepatic steatosis": ["diffuse fatty infiltration", "steatosis", "fatty change of the liver"],
    "liver lesion": ["hypodense liver lesion", "hepatic hypodensity", "focal liver lesion", "hepatic nodule"],
    "ascites": ["peritoneal fluid", "small volume ascites", "intraperitoneal fluid"],
    "diverticulitis": [
        "acute diverticulitis",
        "inflamed diverticulum",
        "pericolonic inflammation with diverticula",
    ],
    "disc herniation": [
        "herniation",
        "broad-based disc bulge with herniation",
        "herniated nucleus pulposus",
        "focal disc protrusion",
    ],
    "spinal stenosis": [
        "stenosis",
        "severe canal stenosis",
        "narrowing of the spinal canal",
        "moderate central stenosis",
    ],
    "compression fracture": [
        "vertebral body height loss",
        "wedge compression deformity",
        "compression deformity",
    ],
    "fracture": ["nondisplaced fracture", "displaced fracture", "cortical break", "comminuted fracture"],
    "dislocation": ["dislocated joint", "anterior dislocation", "malalignment with dislocation"],
    "joint effusion": ["effusion in the joint", "small joint effusion", "large joint effusion"],
    "meniscal tear": [
        "tear of the meniscus",
        "meniscal tears",
        "complex meniscal tear",
        "horizontal meniscal tear",
    ],
    "ligament tear": [
        "ligamentous tear",
        "ligament disruption",
        "complete ligament tear",
        "partial ligament tear",
    ],
    "rotator cuff tear": [
        "full-thickness rotator cuff tear",
        "partial thickness rotator cuff tear",
        "cuff tear",
    ],
    "osteoarthritis": [
        "degenerative changes",
        "arthritic change",
        "joint space narrowing with osteophytes",
        "osteoarthritic change",
    ],
    "deep vein thrombosis": [
        "occlusive thrombus",
        "noncompressible vein with thrombus",
        "acute deep venous thrombosis",
        "intraluminal thrombus",
    ],
}

# observation -> locations it is dictated with
LOCATIONS = {
    "pulmonary nodule": [
        "right upper lobe",
        "right middle lobe",
        "right lower lobe",
        "left upper lobe",
        "left lower lobe",
        "hilum",
    ],
    "pulmonary mass": [
        "right upper lobe",
        "right lower lobe",
        "left upper lobe",
        "left lower lobe",
        "hilum",
        "mediastinum",
    ],
    "consolidation": [
        "right upper lobe",
        "right middle lobe",
        "right lower lobe",
        "left upper lobe",
        "left lower lobe",
        "bilateral lungs",
    ],
    "atelectasis": ["right middle lobe", "right lower lobe", "left lower lobe", "bilateral lungs"],
    "pleural effusion": ["right pleural space", "left pleural space", "bilateral pleural spaces"],
    "pneumothorax": ["right pleural space", "left pleural space"],
    "pulmonary edema": ["bilateral lungs"],
    "lymphadenopathy": ["mediastinum", "hilum"],
    "intracranial hemorrhage": [
        "left frontal lobe",
        "right frontal lobe",
        "left parietal lobe",
        "right parietal lobe",
        "left temporal lobe",
        "right temporal lobe",
        "basal ganglia",
        "cerebellum",
    ],
    "acute infarct": [
        "left frontal lobe",
        "right frontal lobe",
        "left parietal lobe",
        "right parietal lobe",
        "left temporal lobe",
        "right temporal lobe",
        "basal ganglia",
        "cerebellum",
    ],
    "small vessel ischemic change": ["periventricular white matter"],
    "kidney stone": ["right kidney", "left kidney", "bilateral kidneys"],
    "hydronephrosis": ["right kidney", "left kidney", "bilateral kidneys"],
    "gallstones": ["gallbladder"],
    "hepatic steatosis": ["liver"],
    "liver lesion": ["liver"],
    "appendicitis": ["appendix"],
    "free air": ["peritoneum"],
    "ascites": ["peritoneum"],
    "bowel obstruction": ["small bowel"],
    "diverticulitis": ["sigmoid colon"],
    "disc herniation": ["C4-C5", "C5-C6", "C6-C7", "L3-L4", "L4-L5", "L5-S1"],
    "spinal stenosis": ["C4-C5", "C5-C6", "C6-C7", "L3-L4", "L4-L5", "L5-S1"],
    "compression fracture": ["T12", "L1", "L2"],
    "fracture": ["distal radius", "scaphoid", "distal fibula", "medial malleolus", "proximal humerus"],
    "dislocation": ["glenohumeral joint"],
    "joint effusion": ["suprapatellar recess"],
    "meniscal tear": ["medial meniscus", "lateral meniscus"],
    "ligament tear": [
        "anterior cruciate ligament",
        "medial collateral ligament",
        "anterior talofibular ligament",
    ],
    "rotator cuff tear": ["supraspinatus tendon"],
    "deep vein thrombosis": [
        "left femoral vein",
        "right femoral vein",
        "left popliteal vein",
        "right popliteal vein",
    ],
}
LOCATION_BODY_PARTS = {  # locations that only fit some body parts of an observation
    "C4-C5": {"cervical spine"},
    "C5-C6": {"cervical spine"},
    "C6-C7": {"cervical spine"},
    "L3-L4": {"lumbar spine"},
    "L4-L5": {"lumbar spine"},
    "L5-S1": {"lumbar spine"},
    "distal radius": {"wrist"},
    "scaphoid": {"wrist"},
    "distal fibula": {"ankle"},
    "medial malleolus": {"ankle"},
    "proximal humerus": {"shoulder"},
    "glenohumeral joint": {"shoulder"},
    "suprapatellar recess": {"knee"},
    "medial meniscus": {"knee"},
    "lateral meniscus": {"knee"},
    "anterior cruciate ligament": {"knee"},
    "medial collateral ligament": {"knee"},
    "anterior talofibular ligament": {"ankle"},
}
LOCATION_SURFACES = {
    "bilateral lungs": ["both lungs", "the bilateral lungs", "both lung bases", "the lungs bilaterally"],
    "bilateral pleural spaces": ["both pleural spaces", "the bilateral pleural spaces", "bilaterally"],
    "right pleural space": ["the right pleural space", "the right hemithorax", "the right pleural space"],
    "left pleural space": ["the left pleural space", "the left hemithorax", "the left pleural space"],
    "bilateral kidneys": ["both kidneys", "the bilateral kidneys", "the kidneys bilaterally"],
    "peritoneum": ["the peritoneum", "the peritoneal cavity", "the abdomen"],
    "hilum": ["the hilum", "the hilar region", "the right hilum", "the left hilum"],
}
SIZED = {
    "pulmonary nodule",
    "pulmonary mass",
    "lymphadenopathy",
    "kidney stone",
    "liver lesion",
    "gallstones",
    "pleural effusion",
    "disc herniation",
}
NORMAL_STATEMENTS = {  # sentences that name no finding; the model must answer "none"
    "chest": [
        "The lungs are clear.",
        "Lungs are clear of airspace disease.",
        "The lungs are clear without infiltrate.",
        "Heart size is normal.",
        "Heart size is upper limits of normal.",
        "The cardiomediastinal silhouette is within normal limits.",
        "Mediastinal contours are unremarkable.",
        "The lungs are well expanded.",
        "Pulmonary vasculature is normal.",
        "Both lungs are clear and expanded.",
        "No acute cardiopulmonary process.",
        "Degenerative changes of the thoracic spine.",
        "Sternotomy wires are intact.",
        "Calcified granuloma in the left lung.",
        "The heart size remains normal.",
        "Lung volumes are low.",
        "Heart and mediastinum of normal size and contour.",
        "Bony thorax is unremarkable.",
        "Atherosclerotic calcification of the aorta.",
        "Normal cardiac contour.",
        "The trachea is midline.",
        "Central venous catheter tip in the SVC.",
    ],
    "head": [
        "The ventricles are normal in size.",
        "Gray-white differentiation is preserved.",
        "The calvarium is intact.",
        "The visualized sinuses are clear.",
        "No acute intracranial abnormality.",
    ],
    "abdomen": [
        "The liver is normal in size.",
        "The pancreas is unremarkable.",
        "The spleen is normal.",
        "The gallbladder is unremarkable.",
        "The kidneys are normal in size.",
        "Bowel gas pattern is normal.",
    ],
    "spine": [
        "Vertebral body heights are maintained.",
        "Alignment is normal.",
        "The conus terminates normally.",
        "Mild disc desiccation.",
        "Facet arthropathy is mild.",
    ],
    "joint": [
        "Alignment is anatomic.",
        "Bone mineralization is normal.",
        "Soft tissues are unremarkable.",
        "The tendons are intact.",
        "Joint spaces are preserved.",
    ],
    "veins": [
        "The veins are fully compressible.",
        "Normal flow and augmentation.",
        "Normal phasic flow in the common femoral vein.",
    ],
}
GENERIC_NORMALS = [
    "No acute abnormality.",
    "No acute findings.",
    "Normal study.",
    "Unremarkable examination.",
    "No acute process.",
    "No significant abnormality.",
    "Otherwise unremarkable.",
    "Normal examination.",
    "No acute osseous abnormality.",
    "Negative study.",
    "Within normal limits.",
    "No interval change.",
]
NON_FINDING_STATEMENTS = [
    "PA and lateral views of the chest were obtained.",
    "Comparison is made with the prior study.",
    "Comparison: none.",
    "Technique: standard protocol.",
    "Axial images were obtained without contrast.",
    "Clinical correlation is recommended.",
    "Follow-up imaging in 3 months is recommended.",
    "These findings were discussed with the ordering physician.",
    "Dictated by the attending radiologist.",
    "Prior exam from 2019 was reviewed.",
    "Rule out pneumonia.",
    "History of fall.",
    "Evaluate for fracture.",
    "Study limited by motion.",
]

# Findings said as a statement about an organ rather than with a noun for the finding.
STATEMENTS = {
    "cardiomegaly": (
        [
            "The heart is enlarged.",
            "Heart size is mildly enlarged.",
            "The cardiac silhouette is enlarged.",
            "Cardiac size remains enlarged but stable.",
            "The heart size is moderately enlarged.",
            "Heart is large.",
            "The cardiac silhouette is mildly enlarged, unchanged.",
            "Heart size is increased.",
        ],
        [
            "The heart is not enlarged.",
            "Heart size is not enlarged.",
            "The cardiac silhouette is not enlarged.",
        ],
    ),
    "rib fracture": (
        [
            "Healed fracture of the left 6th rib.",
            "Fractures of the right 4th and 5th ribs.",
            "Old fracture through the posterior left 7th rib.",
            "Acute fracture of the right 9th rib.",
            "Nondisplaced fractures of the left lateral ribs.",
            "Fracture deformity of a right rib.",
        ],
        ["The ribs are intact.", "No displaced rib fracture.", "No fracture of the ribs."],
    ),
    "pulmonary edema": (
        [
            "Diffuse interstitial opacities consistent with edema.",
            "There is pulmonary vascular congestion with interstitial edema.",
        ],
        ["No edema.", "Mild congestion without edema."],
    ),
}
MODIFIERS = [
    "small",
    "mild",
    "moderate",
    "large",
    "minimal",
    "focal",
    "patchy",
    "trace",
    "tiny",
    "subtle",
    "new",
    "stable",
]
PRESENT = [
    "There is {a}{f}{loc}{size}.",
    "{F}{loc}{size}.",
    "Findings consistent with {a}{f}{loc}{size}.",
    "{A}{f} is seen{loc}{size}.",
    "{A}{f} is noted{loc}{size}.",
    "There is evidence of {a}{f}{loc}{size}.",
    "{F} is present{loc}{size}.",
    "{A}{f} is identified{loc}{size}.",
    "Redemonstrated {f}{loc}{size}.",
    "Stable {f}{loc}{size}.",
    "Interval development of {a}{f}{loc}{size}.",
    "{Loc_pre}there is {a}{f}{size}.",
    "Compatible with {a}{f}{loc}{size}.",
    "New {f}{loc}{size}.",
    "Again seen is {a}{f}{loc}{size}.",
    "Positive for {f}{loc}.",
    "Persistent {f}{loc}{size}.",
    "Demonstrates {a}{f}{loc}{size}.",
    "{A}{f} remains{loc}{size}.",
    "Unchanged {f}{loc}{size}.",
    "Consistent with {f}{loc}{size}.",
    "Noted is {a}{f}{loc}{size}.",
    "We see {a}{f}{loc}{size}.",
    "{A}{f} has developed{loc}{size}.",
]
ABSENT = [
    "No {f}.",
    "There is no {f}.",
    "No evidence of {f}.",
    "Negative for {f}.",
    "Without {f}.",
    "No {f} is seen.",
    "{F} is not seen.",
    "No definite {f}.",
    "No signs of {f}.",
    "No {f} identified.",
    "There is no evidence of {f}.",
    "{F} is absent.",
    "No findings of {f}.",
    "{F} has resolved.",
    "Resolution of the previously seen {f}.",
    "No radiographic evidence of {f}.",
    "No visible {f}.",
    "{F} is not identified.",
    "Free of {f}.",
    "No new {f}.",
    "Interval resolution of {f}.",
    "{F}: none.",
    "No sign of {f}.",
    "{F} is excluded.",
]
ABSENT_LIST = [
    "No {fs}.",
    "There is no {fs}.",
    "No evidence of {fs}.",
    "Negative for {fs}.",
    "Without evidence of {fs}.",
    "No {fs} is seen.",
    "{Fs} are not seen.",
    "No definite {fs}.",
    "There is no evidence of {fs}.",
    "No {fs} identified.",
    "No radiographic evidence of {fs}.",
    "Absence of {fs}.",
    "{Fs} are absent.",
    "No signs of {fs}.",
    "{Fs} are not identified.",
    "No visible {fs}.",
]
POSSIBLE = [
    "Possible {f}{loc}.",
    "{F}{loc} cannot be excluded.",
    "Suspected {f}{loc}.",
    "This may represent {a}{f}{loc}.",
    "Questionable {f}{loc}.",
    "Findings suspicious for {f}{loc}.",
    "Opacity{loc} which may represent {f}.",
    "{F}{loc} is suspected.",
    "Probable {f}{loc}.",
    "Cannot exclude {f}{loc}.",
    "Likely {f}{loc}.",
    "Concerning for {f}{loc}.",
    "Could represent {a}{f}{loc}.",
    "Equivocal {f}{loc}.",
    "Differential includes {f}{loc}.",
    "Possibly {a}{f}{loc}.",
]
PSEUDO = [  # a negation word that does not negate: the finding is present
    "No change in the {f}{loc}.",
    "No interval change in {f}{loc}.",
    "No significant change in the {f}{loc}{size}.",
    "No increase in the {f}{loc}.",
    "{F}{loc} without significant change.",
    "Not only {f}{loc} but also {f2}.",
    "No appreciable change of {f}{loc}.",
    "{F}{loc}, not significantly changed.",
    "No longer increasing {f}{loc}.",
    "No further progression of the {f}{loc}.",
]
MIXED = [
    "No {fa} but there is {a}{f}{loc}.",
    "No {fa}; however, {a}{f} is present{loc}.",
    "There is {a}{f}{loc} without {fa}.",
    "{F}{loc} with no {fa}.",
    "{F}{loc} is present but no {fa}.",
    "No {fa}, although there is {a}{f}{loc}.",
    "Without {fa}, there is {a}{f}{loc}.",
    "{F}{loc}, but no {fa}.",
]
# Phrasings only the held-out split draws, taken from how real reports talk (written fresh, not copied from any
# report): the shipped model never saw them, so the held-out set measures generalisation, not memory. Train data
# stays as the shipped weights were trained (``_heldout`` returns nothing for ``split="train"``).
HELDOUT_PRESENT = [
    "{F}{loc} is again noted{size}.",
    "{F}{loc}, unchanged from the prior exam{size}.",
    "There has been interval development of {a}{f}{loc}.",
]
HELDOUT_ABSENT_LIST = ["{Fs}: none.", "No acute {fs}.", "No evidence of {fs} is identified."]
HELDOUT_POSSIBLE = [
    "{F}{loc} is difficult to entirely exclude.",
    "Opacity{loc}, which could reflect {f}.",
    "Findings may reflect {a}{f}{loc}.",
]
HELDOUT_NORMALS = {
    "chest": [
        "Heart size is at the upper limits of normal.",
        "The lungs are clear bilaterally.",
        "XXXX XXXX are normal.",
        "Heart size and mediastinal contour are stable.",
    ]
}


def _heldout(split: str, phrasings: list[str]) -> list[str]:
    return phrasings if split == "heldout" else []


LOC_SURFACE = ["in the {L}", "within the {L}", "involving the {L}", "of the {L}", "in the {L}", "at the {L}"]
LOC_PRE = ["In the {L}, ", "{Lcap}: ", "At the {L}, ", "Within the {L}, "]
SIZE_SURFACE = [
    "measuring {d} {u}",
    "{d} {u}",
    "measuring approximately {d} {u}",
    "({d} {u})",
    "up to {d} {u}",
    "about {d} {u}",
    "sized {d} {u}",
    "of {d} {u}",
]
UNITS = {"mm": ["mm", "millimeters", "mm", "millimeter"], "cm": ["cm", "centimeters", "cm", "centimeter"]}
DIM_JOIN = [" x ", " by ", " x ", " times "]


def _article(phrase: str) -> str:
    if (
        phrase.endswith("s")
        and not phrase.endswith(("sis", "us", "ss"))
        or phrase.split()[0] in {"free", "ascites"}
    ):
        return ""
    return "an " if phrase[0] in "aeiou" else "a "


def surface(rng, observation: str, split: str, modifiers: bool = True) -> str:
    """One way to say an observation."""
    entry = vocab.observations()[observation]
    options = (
        [s for s in entry["synonyms"] if s != "PE"] + [observation] + EXTRA_SURFACES.get(observation, [])
    )
    text = pick(rng, options, split)
    if modifiers and rng.random() < 0.25 and text.split()[0] not in MODIFIERS:
        text = f"{rng.choice(MODIFIERS)} {text}"
    if rng.random() < 0.03:
        text = text.upper() if len(text) < 4 else text
    if observation == "pulmonary embolism" and rng.random() < 0.15:
        text = "PE"
    return text


def location_surface(rng, location: str, split: str) -> str:
    options = LOCATION_SURFACES.get(location, [])
    if options and rng.random() < 0.5:
        phrase = pick(rng, options, split)
        return " " + phrase if phrase.startswith(("the", "both", "bilaterally")) else " in " + phrase
    template = pick(rng, LOC_SURFACE, split)
    if location[0].isupper():  # spine levels: "at L4-L5"
        template = rng.choice(["at {L}", "at the {L} level", "at {L}", "at level {L}"])
    return " " + template.format(L=location)


def size_value(rng, observation: str):
    """Dimensions (largest first or not) in a unit, and the target text."""
    unit = rng.choice(["mm", "cm"])
    n_dims = rng.choice([1, 1, 2, 2, 3])
    largest_mm = rng.randint(3, 60)
    dims_mm = [largest_mm] + sorted((rng.randint(2, largest_mm) for _ in range(n_dims - 1)), reverse=True)
    if rng.random() < 0.3:
        rng.shuffle(dims_mm)
    if unit == "cm":
        dims = [f"{d / 10:g}" if d % 10 else f"{d // 10}" for d in dims_mm]
        dims = [d if not d.startswith("0.") or rng.random() < 0.5 else d[1:] for d in dims]  # ".8 cm"
    else:
        dims = [str(d) for d in dims_mm]
    target = " x ".join(d if not d.startswith(".") else "0" + d for d in dims) + f" {unit}"
    return dims, unit, target


def size_surface(rng, dims, unit, split) -> str:
    join = rng.choice(DIM_JOIN)
    text = join.join(dims)
    return " " + pick(rng, SIZE_SURFACE, split).format(d=text, u=rng.choice(UNITS[unit]))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join_list(rng, items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    conj = rng.choice([" or ", " or ", " nor ", " and "])
    comma = rng.choice([", ", ", "]) if len(items) > 2 else ""
    return ", ".join(items[:-1]) + (comma.rstrip() if len(items) > 2 else "") + conj + items[-1]


def observations_for(body_part: str) -> list[str]:
    return [name for name, entry in vocab.observations().items() if body_part in entry["body_parts"]]


def locations_for(observation: str, body_part: str) -> list[str]:
    return [
        loc
        for loc in LOCATIONS.get(observation, [])
        if body_part in LOCATION_BODY_PARTS.get(loc, {body_part})
    ]


def _finding(rng, observation, body_part, status, split, with_loc=0.5, with_size=0.5):
    locs = locations_for(observation, body_part)
    loc = rng.choice(locs) if locs and status != "absent" and rng.random() < with_loc else None
    size = None
    if status == "present" and observation in SIZED and rng.random() < with_size:
        size = size_value(rng, observation)
    return {"observation": observation, "status": status, "location": loc, "size": size}


def _fill(rng, template, finding, split, extra=None):
    f = surface(rng, finding["observation"], split)
    loc = location_surface(rng, finding["location"], split) if finding["location"] else ""
    size = size_surface(rng, *finding["size"][:2], split) if finding.get("size") else ""
    values = {
        "f": f,
        "F": _cap(f),
        "a": _article(f),
        "A": _cap(_article(f)) if _article(f) else "",
        "loc": loc,
        "size": size,
        "Loc_pre": "",
        "f2": "",
        "fa": "",
    }
    if not values["A"]:
        values["f"], values["F"] = f, _cap(f)
        if template.startswith("{A}"):
            template = template.replace("{A}{f}", "{F}", 1)
    if "{Loc_pre}" in template:
        if finding["location"]:
            values["Loc_pre"] = rng.choice(LOC_PRE).format(
                L=finding["location"], Lcap=_cap(finding["location"])
            )
        else:
            template = template.replace("{Loc_pre}there", "There")
    values.update(extra or {})
    return template.format(**values)


def finding_sentence(rng: random.Random, body_part: str, split: str = "train") -> tuple[str, list[Finding]]:
    """One findings-section sentence about ``body_part`` and the findings it states, in order."""
    names = observations_for(body_part)
    kind = rng.choices(
        [
            "present",
            "absent",
            "absent_list",
            "possible",
            "pseudo",
            "mixed",
            "normal",
            "impression_list",
            "redacted",
        ],
        weights=[24, 17, 14, 8, 5, 7, 13, 9, 3],
    )[0]
    if kind == "normal" or not names:
        key = {"lumbar spine": "spine", "cervical spine": "spine", "lower extremity veins": "veins"}.get(
            body_part, body_part
        )
        key = key if key in NORMAL_STATEMENTS else ("abdomen" if "abdomen" in body_part else "joint")
        return pick(
            rng,
            NORMAL_STATEMENTS[key]
            + GENERIC_NORMALS
            + NON_FINDING_STATEMENTS
            + _heldout(split, HELDOUT_NORMALS.get(key, [])),
            split,
        ), []
    obs = rng.choice(names)
    if obs in STATEMENTS and kind in ("present", "absent") and rng.random() < 0.4:
        present, absent = STATEMENTS[obs]
        return pick(rng, present if kind == "present" else absent, split), [
            {"observation": obs, "status": kind, "location": None, "size": None}
        ]
    if kind == "present":
        f = _finding(rng, obs, body_part, "present", split)
        return _fill(rng, pick(rng, PRESENT + _heldout(split, HELDOUT_PRESENT), split), f, split), [f]
    if kind == "absent":
        f = _finding(rng, obs, body_part, "absent", split)
        return _fill(rng, pick(rng, ABSENT, split), f, split), [f]
    if kind == "absent_list":
        chosen = rng.sample(names, min(len(names), rng.randint(2, 5)))
        fs = [_finding(rng, o, body_part, "absent", split) for o in chosen]
        phrases = [surface(rng, o, split, modifiers=False) for o in chosen]
        joined = _join_list(rng, phrases)
        template = pick(rng, ABSENT_LIST + _heldout(split, HELDOUT_ABSENT_LIST), split)
        return template.format(fs=joined, Fs=_cap(joined)), fs
    if kind == "possible":
        f = _finding(rng, obs, body_part, "possible", split)
        return _fill(rng, pick(rng, POSSIBLE + _heldout(split, HELDOUT_POSSIBLE), split), f, split), [f]
    if kind == "pseudo":
        f = _finding(rng, obs, body_part, "present", split)
        template = pick(rng, PSEUDO, split)
        others = [n for n in names if n != obs]
        if "{f2}" in template and others:
            f2 = _finding(rng, rng.choice(others), body_part, "present", split, with_loc=0, with_size=0)
            return _fill(rng, template, f, split, {"f2": surface(rng, f2["observation"], split)}), [f, f2]
        template = template if "{f2}" not in template else "No change in the {f}{loc}."
        return _fill(rng, template, f, split), [f]
    if kind == "mixed":
        others = [n for n in names if n != obs]
        if not others:
            f = _finding(rng, obs, body_part, "present", split)
            return _fill(rng, pick(rng, PRESENT, split), f, split), [f]
        chosen = rng.sample(others, min(len(others), rng.randint(1, 2)))
        fa = [_finding(rng, o, body_part, "absent", split) for o in chosen]
        f = _finding(rng, obs, body_part, "present", split, with_size=0)
        template = pick(rng, MIXED, split)
        text = _fill(
            rng,
            template,
            f,
            split,
            {"fa": _join_list(rng, [surface(rng, o, split, modifiers=False) for o in chosen])},
        )
        return text, (fa + [f]) if template.startswith(("No", "Without")) else ([f] + fa)
    if kind == "impression_list":
        chosen = rng.sample(names, min(len(names), rng.randint(1, 3)))
        fs = [_finding(rng, o, body_part, "present", split, with_size=0.2) for o in chosen]
        parts = []
        for f in fs:
            text = (
                surface(rng, f["observation"], split, modifiers=False)
                if rng.random() < 0.5
                else f["observation"]
            )
            if f["location"]:
                text += (
                    rng.choice([" in the ", " of the "]) + f["location"]
                    if not f["location"][0].isupper()
                    else " at " + f["location"]
                )
            if f["size"]:
                text += size_surface(rng, *f["size"][:2], split)
            parts.append(text)
        sep = rng.choice(["; ", "; ", ", and ", ". "])
        if sep == ". ":
            text = " ".join(f"{i}. {_cap(p)}." for i, p in enumerate(parts, 1))
        else:
            text = _cap(sep.join(parts)) + "."
        return text, fs
    # redacted: a finding sentence with one word replaced by XXXX, as de-identified reports show
    f = _finding(rng, obs, body_part, "present", split, with_size=0)
    text = _fill(
        rng,
        rng.choice(
            [
                "There is {a}{f}{loc} XXXX.",
                "XXXX {f}{loc}.",
                "{F}{loc}, XXXX stable.",
                "XXXX XXXX {f}{loc} is noted.",
            ]
        ),
        f,
        split,
    )
    return text, [f]


# ---------------------------------------------------------------- whole dictations

FIRST = [
    "Maria",
    "John",
    "Aisha",
    "Kenji",
    "Olga",
    "Luis",
    "Priya",
    "Samuel",
    "Chloe",
    "Omar",
    "Grace",
    "Wei",
    "Fatima",
    "Hugo",
    "Linda",
    "Noah",
    "Yuki",
    "Daniel",
    "Amara",
    "Carlos",
    "Sofia",
    "Ahmed",
    "James",
    "Elena",
    "Tomasz",
    "Ingrid",
    "Kwame",
    "Mei",
    "Rafael",
    "Zainab",
    "Pierre",
    "Anika",
    "Diego",
    "Hana",
    "Oluwaseun",
    "Mateo",
    "Freya",
    "Ravi",
    "Leila",
    "Bjorn",
    "Nadia",
    "Emeka",
    "Sven",
    "Lucia",
    "Arjun",
    "Keiko",
    "Mary Ann",
    "Jean Paul",
    "Ana",
    "Thabo",
    "Svetlana",
    "Connor",
    "Ximena",
    "Jakub",
    "Imani",
    "Farid",
    "Greta",
    "Hiroshi",
    "Paloma",
    "Tariq",
]
LAST = [
    "Lopez",
    "Brown",
    "Nguyen",
    "Chen",
    "Garcia",
    "Park",
    "Patel",
    "Tanaka",
    "Ivanova",
    "Johansson",
    "Muller",
    "Smith",
    "Dubois",
    "Rossi",
    "Haddad",
    "Silva",
    "Kowalski",
    "Okafor",
    "Schmidt",
    "Yamamoto",
    "O'Brien",
    "Fernandez",
    "Novak",
    "Mensah",
    "Kim",
    "Larsen",
    "Moreau",
    "Kaur",
    "Abdullah",
    "Petrov",
    "Costa",
    "Van Dijk",
    "McDonald",
    "Nakamura",
    "Adeyemi",
    "Hernandez",
    "Lindqvist",
    "Goldberg",
    "Santos",
    "Rahman",
    "Fischer",
    "Horvath",
    "Papadopoulos",
    "Wojcik",
    "Osei",
    "Bianchi",
    "Jensen",
    "Zhang",
    "Morales",
    "Dlamini",
    "St. Clair",
]
# Names in neither list: every split draws FIRST and LAST, so an ASR adapter trained on generated dictations has
# heard the held-out dictations' names; `boya medreport bench --unseen-names` swaps these in to measure names it never heard.
UNSEEN_FIRST = ["Oscar", "Helen", "Pablo", "Nora", "Felix", "Irene", "Victor", "Clara", "Dmitri", "Leah",
                "Marco", "Ruth", "Andre", "Esther", "Boris", "Yara", "Tobias", "Ines", "Kofi", "Mina"]  # fmt: skip
UNSEEN_LAST = ["Becker", "Howard", "Moreno", "Sato", "Lindberg", "Quinn", "Ortega", "Weber", "Kovac", "Reyes",
               "Holm", "Dorsey", "Mahler", "Pike", "Castro", "Abbott", "Nilsson", "Okoro", "Varga", "Duarte"]  # fmt: skip


def with_name(row: dict, name: str) -> dict:
    """``row`` (from :func:`dictation`) with the patient's name replaced in the text, written or spoken, and in the report."""
    old = row["report"]["patient"]["name"]
    text = row["dictation"].replace(old, name).replace(old.replace("St. ", "Saint "), name)
    return {
        **row,
        "dictation": text,
        "report": {**row["report"], "patient": {**row["report"]["patient"], "name": name}},
    }


MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORDINALS = {
    1: "first",
    2: "second",
    3: "third",
    5: "fifth",
    8: "eighth",
    9: "ninth",
    12: "twelfth",
    20: "twentieth",
    30: "thirtieth",
}


def spoken_ordinal(n: int) -> str:
    if n in ORDINALS:
        return ORDINALS[n]
    if n > 20 and n % 10:
        return TENS[n // 10] + " " + spoken_ordinal(n % 10)
    return spoken_number(n) + "th"


EXAMS = {  # body part -> (modalities, spoken names of the part, lateral?)
    "head": (["CT", "MR"], ["head", "brain"], False),
    "chest": (["XR", "CT"], ["chest", "thorax"], False),
    "abdomen and pelvis": (["CT"], ["abdomen and pelvis"], False),
    "abdomen": (["US", "CT"], ["abdomen"], False),
    "lumbar spine": (["MR", "CT", "XR"], ["lumbar spine", "l-spine"], False),
    "cervical spine": (["CT", "MR"], ["cervical spine", "c-spine"], False),
    "knee": (["XR", "MR"], ["knee"], True),
    "shoulder": (["XR", "MR"], ["shoulder"], True),
    "wrist": (["XR"], ["wrist"], True),
    "ankle": (["XR", "MR"], ["ankle"], True),
    "lower extremity veins": (["US"], ["lower extremity veins", "leg veins", "lower extremity venous"], True),
}
MODALITY_SURFACES = {
    "CT": ["CT", "CT scan", "computed tomography", "cat scan", "CAT scan"],
    "MR": ["MRI", "MR", "magnetic resonance imaging", "MRI scan"],
    "XR": ["x-ray", "radiographs", "radiograph", "plain film", "x-rays"],
    "US": ["ultrasound", "sonogram", "duplex ultrasound", "sonography"],
}
INDICATIONS = {
    "head": ["headache", "fall with head strike", "confusion", "sudden weakness", "syncope"],
    "chest": ["chest pain", "shortness of breath", "persistent cough", "fever and cough", "trauma"],
    "abdomen and pelvis": [
        "abdominal pain",
        "flank pain",
        "right lower quadrant pain",
        "nausea and vomiting",
    ],
    "abdomen": ["abdominal pain", "abnormal liver enzymes", "right upper quadrant pain"],
    "lumbar spine": ["low back pain", "low back pain radiating to the leg", "fall"],
    "cervical spine": ["neck pain", "neck pain after motor vehicle collision", "numbness in the hand"],
    "knee": ["knee pain after twisting injury", "knee swelling", "instability"],
    "shoulder": ["shoulder pain", "weakness lifting the arm"],
    "wrist": ["wrist pain", "fall on outstretched hand"],
    "ankle": ["ankle swelling", "inversion injury"],
    "lower extremity veins": ["calf pain", "leg swelling", "shortness of breath"],
}


def spoken_number(n: int) -> str:
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        return ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + spoken_number(n % 100))
    return spoken_number(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + spoken_number(n % 1000))


def spoken_year(year: int) -> str:
    if 2000 <= year < 2010:
        return "two thousand" + ("" if year == 2000 else " " + ONES[year - 2000])
    return (
        spoken_number(year // 100)
        + " "
        + (spoken_number(year % 100) if year % 100 >= 10 else "oh " + ONES[year % 100])
    )


def date_surface(rng, date: datetime.date, split: str, spoken: bool) -> str:
    m = MONTHS[date.month - 1]
    if spoken:
        day = spoken_ordinal(date.day)
        return rng.choice(
            [
                f"{m} {day}, {spoken_year(date.year)}",
                f"{m} {spoken_number(date.day)} {spoken_year(date.year)}",
                f"the {day} of {m} {spoken_year(date.year)}",
            ]
        )
    return pick(
        rng,
        [
            f"{date.month}/{date.day}/{date.year}",
            f"{m} {date.day}, {date.year}",
            f"{date.day} {m} {date.year}",
            f"{date.month:02d}/{date.day:02d}/{date.year}",
            f"{date.isoformat()}",
            f"{m[:3]} {date.day}, {date.year}",
            f"{date.day}-{m[:3]}-{date.year}",
            f"{m} {date.day} {date.year}",
        ],
        split,
    )


def mrn_surface(rng, mrn: str, spoken: bool) -> str:
    if spoken or rng.random() < 0.3:
        words = [("oh" if d == "0" and rng.random() < 0.3 else ONES[int(d)]) for d in mrn]
        return " ".join(words)
    return mrn if rng.random() < 0.8 else "-".join([mrn[:3], mrn[3:]])


def dictation(
    rng: random.Random, split: str = "train", style: str | None = None, spoken: bool | None = None
) -> dict:
    """A whole dictation and its gold report (``report`` per medreport.schema.json)."""
    body_part = rng.choice(list(EXAMS))
    modalities, part_names, lateral = EXAMS[body_part]
    modality = rng.choice(modalities)
    laterality = (
        rng.choice(
            ["left", "right", "bilateral"] if body_part == "lower extremity veins" else ["left", "right"]
        )
        if lateral
        else None
    )
    contrast = rng.choice([None, None, True, False]) if modality in ("CT", "MR") else None
    style = style or rng.choice(["sectioned", "narrative", "reordered", "terse"])
    spoken = rng.random() < 0.25 if spoken is None else spoken
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    mrn = str(rng.randint(10**6, 10**10 - 1))
    birth = datetime.date(1930, 1, 1) + datetime.timedelta(days=rng.randint(0, 80 * 365))
    sex = rng.choice(["female", "male"])

    exam_text = pick(rng, MODALITY_SURFACES[modality], split) + rng.choice([" of the ", " ", " of the "])
    exam_text += (laterality + " " if laterality else "") + rng.choice(part_names)
    if contrast is True:
        exam_text += rng.choice(
            [" with contrast", " with IV contrast", " with and without contrast", " post contrast"]
        )
    elif contrast is False:
        exam_text += rng.choice(
            [" without contrast", " non-contrast", " without IV contrast", " noncontrast"]
        )
    indication = rng.choice(INDICATIONS[body_part])

    sentences, findings = [], []
    for _ in range(rng.choice([1, 2, 2, 3, 3, 4])):
        text, fs = finding_sentence(rng, body_part, split)
        fs = [{**f, "size": None} if f.get("size") and not _says_size(text, f["size"]) else f for f in fs]
        if any(f["observation"] in {g["observation"] for g in findings} for f in fs):
            continue
        sentences.append(text)
        findings += fs
    present = [f for f in findings if f["status"] != "absent"]
    impression = (
        "; ".join(f["observation"] + (f" in the {f['location']}" if f["location"] else "") for f in present)
        or "no acute abnormality"
    )
    critical = any(vocab.is_critical(f["observation"]) for f in present)
    recommendation = (
        "findings communicated to the ordering physician"
        if critical
        else rng.choice([None, None, "follow-up CT in 3 months", "clinical correlation"])
    )

    sex_word = sex if rng.random() < 0.6 else {"female": "woman", "male": "man"}[sex]
    dob, mrn_text = date_surface(rng, birth, split, spoken), mrn_surface(rng, mrn, spoken)
    headers = {
        "patient": pick(
            rng,
            [
                f"Patient {name}, medical record number {mrn_text}, date of birth {dob}, {sex}.",
                f"Patient name: {name}. MRN: {mrn_text}. Date of birth: {dob}. Sex: {sex}.",
                f"Patient {name}, MRN {mrn_text}, DOB {dob}, {sex_word}.",
                f"Patient is {name}, a {sex} patient, medical record {mrn_text}, born {dob}.",
                f"Name {name}, {sex}, record number {mrn_text}, birth date {dob}.",
                f"This is {name}, {sex_word}, born on {dob}, medical record number {mrn_text}.",
            ],
            split,
        ),
        "exam": pick(
            rng,
            [
                f"Exam: {exam_text}.",
                f"Examination: {exam_text}.",
                f"Study: {exam_text}.",
                f"Procedure: {exam_text}.",
            ],
            split,
        ),
        "indication": pick(
            rng,
            [
                f"Indication: {indication}.",
                f"Clinical history: {indication}.",
                f"History: {indication}.",
                f"Reason for exam: {indication}.",
                f"Clinical indication: {indication}.",
            ],
            split,
        ),
        "findings": pick(
            rng,
            ["Findings: ", "Findings: ", "Findings are as follows: ", "Report: "]
            + _heldout(split, ["Findings, "]),
            split,
        )
        + " ".join(sentences),
        "impression": pick(
            rng,
            ["Impression: ", "Impression: ", "Conclusion: ", "Summary: "] + _heldout(split, ["Impression, "]),
            split,
        )
        + impression
        + ".",
        "recommendation": f"{pick(rng, ['Recommendation: ', 'Recommendations: ', 'Plan: ', 'Recommend: '], split)}{recommendation}."
        if recommendation
        else "",
    }
    if style == "narrative":
        article = "an" if exam_text[0].lower() in "aeiou" or exam_text.startswith(("MR", "x-ray")) else "a"
        parts = [
            f"This is {article} {exam_text} for {name}, a {sex} patient, MRN {mrn_text}, born {dob}.",
            pick(
                rng,
                [
                    f"The study was ordered for {indication}.",
                    f"The exam was requested for {indication}.",
                    f"Ordered for {indication}.",
                ],
                split,
            ),
            " ".join(sentences),
            f"{rng.choice(['In summary, ', 'Overall, ', 'In conclusion, '])}{impression}.",
            headers["recommendation"],
        ]
    elif style == "reordered":
        parts = [
            headers["exam"],
            headers["patient"],
            headers["indication"],
            headers["impression"],
            headers["findings"],
            headers["recommendation"],
        ]
    elif style == "terse":
        parts = [headers["patient"], headers["exam"], headers["findings"], headers["impression"]]
        indication = None
        recommendation = None
    else:
        parts = [
            headers["patient"],
            headers["exam"],
            headers["indication"],
            headers["findings"],
            headers["impression"],
            headers["recommendation"],
        ]
    text = " ".join(p for p in parts if p)
    if spoken:
        text = speak(rng, text)
    report = {
        "patient": {"name": name, "mrn": mrn, "birth_date": birth.isoformat(), "sex": sex},
        "exam": {
            "modality": modality,
            "body_part": body_part,
            "laterality": laterality,
            "contrast": contrast,
        },
        "indication": indication,
        "findings": [gold_finding(f) for f in _dedupe(findings)],
        "impression": impression,
        "critical": critical,
        "recommendation": recommendation,
    }
    return {"style": style + ("-spoken" if spoken else ""), "dictation": text, "report": report}


def _says_size(text: str, size) -> bool:
    """Whether a sentence states a drawn size: some templates ("No increase in the {f}.") leave it unsaid,
    and the gold report must not then hold it (the model's targets, per sentence, are left as trained)."""
    dims, _, _ = size
    return all(re.search(r"(?<![\d.])" + re.escape(d) + r"(?![\d])", text) for d in dims)


def _dedupe(findings):
    seen, out = set(), []
    for f in findings:
        key = (f["observation"], f["status"] != "absent")
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def size_mm(size_text: str | None) -> float | None:
    """Largest dimension in mm of a target size text such as ``"1.2 x 0.9 cm"``."""
    if not size_text:
        return None
    *dims, unit = size_text.replace(" x ", " ").split()
    value = max(float(d) for d in dims) * (10 if unit == "cm" else 1)
    return round(value, 1)


def gold_finding(f: Finding) -> dict:
    return {
        "observation": f["observation"],
        "present": f["status"] != "absent",
        "location": f["location"],
        "size_mm": size_mm(f["size"][2]) if f.get("size") else None,
        **({"certainty": "possible"} if f["status"] == "possible" else {}),
    }


_SAID_IN_FULL = {"St.": "Saint"}


def speak(rng, text: str) -> str:
    """Dictate written text: punctuation as commands, some paragraph breaks; digits are left to :func:`spoken_digits`."""
    out = []
    for token in text.split(" "):
        if token in _SAID_IN_FULL:  # "St. Clair" is said "Saint Clair", not "St period Clair"
            out.append(_SAID_IN_FULL[token])
            continue
        word = token
        tail = []
        while word and word[-1] in ".,;:":
            tail.insert(0, {".": "period", ",": "comma", ";": "semicolon", ":": "colon"}[word[-1]])
            word = word[:-1]
        out.append(spoken_digits(word) if any(c.isdigit() for c in word) else word)
        out += tail
        if tail and tail[-1] == "period" and rng.random() < 0.15:
            out.append("new paragraph")
    return " ".join(out)


def spoken_digits(word: str) -> str:
    """12 -> twelve, (1.2 -> (one point two; C5-C6 and 12/9 stay as written (level names, dates)."""
    if any(c.isalpha() for c in word) or "/" in word or "-" in word:
        return word

    def say(match):
        number = match.group(0)
        if "." in number:
            whole, frac = number.split(".", 1)
            return (
                ((spoken_number(int(whole)) + " ") if whole else "")
                + "point "
                + " ".join(ONES[int(d)] for d in frac)
            )
        return spoken_number(int(number)) if int(number) < 10000 else number

    return re.sub(r"\d*\.\d+|\d+", say, word)

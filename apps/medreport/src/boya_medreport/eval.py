"""The scoring of issue 6: micro-F1 over atomic facts plus findings-F1, and present-finding F1 for real reports.

Atomic facts: the 9 scalar fields (patient name, MRN, birth date, sex; exam modality,
body part, laterality, contrast; critical), one fact per finding (observation, present),
and for each matched finding its location and size (where either side gives one; sizes
match within 0.5 mm). Findings-F1 is over the (observation, present) pairs alone.
Strings compare case- and space-insensitively. Files with ``"present"`` lists instead of
gold reports (real chest X-ray reports) are scored on present findings only.
"""

import json
from pathlib import Path

from boya.errors import BoyaError

SCALARS = [
    ("patient", "name"),
    ("patient", "mrn"),
    ("patient", "birth_date"),
    ("patient", "sex"),
    ("exam", "modality"),
    ("exam", "body_part"),
    ("exam", "laterality"),
    ("exam", "contrast"),
    (None, "critical"),
]


def _norm(value):
    if isinstance(value, str):
        return " ".join(value.casefold().split())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _get(report, group, key):
    container = report if group is None else (report.get(group) or {})
    return container.get(key) if isinstance(container, dict) else None


def _f1(tp, n_pred, n_gold) -> float:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def score_report(gold: dict, pred: dict) -> dict:
    """Counts for one report: ``tp``, ``gold``, ``pred`` (all facts) and ``f_tp``, ``f_gold``, ``f_pred`` (findings)."""
    counts = {"tp": 0, "gold": 0, "pred": 0, "f_tp": 0, "f_gold": 0, "f_pred": 0, "fields": {}}
    for group, key in SCALARS:
        ok = _norm(_get(gold, group, key)) == _norm(_get(pred, group, key))
        counts["tp"] += ok
        counts["gold"] += 1
        counts["pred"] += 1
        counts["fields"][f"{group}.{key}" if group else key] = ok
    gold_f = {(_norm(f["observation"]), bool(f["present"])): f for f in gold.get("findings") or []}
    pred_f: dict = {}
    for f in pred.get("findings") or []:
        if isinstance(f, dict) and "observation" in f:
            pred_f.setdefault((_norm(f["observation"]), bool(f.get("present"))), f)
    counts["gold"] += len(gold_f)
    counts["pred"] += len(pred_f)
    counts["f_gold"], counts["f_pred"] = len(gold_f), len(pred_f)
    for key, g in gold_f.items():
        if key not in pred_f:
            continue
        counts["tp"] += 1
        counts["f_tp"] += 1
        p = pred_f[key]
        for attr in ("location", "size_mm"):
            gv, pv = _norm(g.get(attr)), _norm(p.get(attr))
            if gv is None and pv is None:
                continue
            counts["gold"] += gv is not None
            counts["pred"] += pv is not None
            if gv is not None and pv is not None:
                numeric = attr == "size_mm" and all(isinstance(v, (int, float)) for v in (gv, pv))
                counts["tp"] += abs(gv - pv) <= 0.5 if numeric else gv == pv
    return counts


def score(golds: list[dict], preds: list[dict]) -> dict:
    """Micro-F1, findings-F1 and per-field accuracy over paired gold/predicted reports."""
    if len(golds) != len(preds):
        raise BoyaError(f"{len(golds)} gold reports but {len(preds)} predictions")
    total = {"tp": 0, "gold": 0, "pred": 0, "f_tp": 0, "f_gold": 0, "f_pred": 0}
    fields: dict[str, int] = {}
    for g, p in zip(golds, preds, strict=True):
        c = score_report(g, p if isinstance(p, dict) else {})
        for k in total:
            total[k] += c[k]
        for k, ok in c["fields"].items():
            fields[k] = fields.get(k, 0) + ok
    n = max(len(golds), 1)
    return {
        "reports": len(golds),
        "micro_f1": round(_f1(total["tp"], total["pred"], total["gold"]), 4),
        "precision": round(total["tp"] / max(total["pred"], 1), 4),
        "recall": round(total["tp"] / max(total["gold"], 1), 4),
        "findings_f1": round(_f1(total["f_tp"], total["f_pred"], total["f_gold"]), 4),
        "field_accuracy": {k: round(v / n, 4) for k, v in fields.items()},
    }


def score_present(gold_sets: list[set], preds: list[dict]) -> dict:
    """Present-finding micro P/R/F1 of (report, observation) pairs (the real chest X-ray scoring)."""
    pred_sets = [{f["observation"] for f in p.get("findings") or [] if f.get("present")} for p in preds]
    tp = sum(len(g & p) for g, p in zip(gold_sets, pred_sets, strict=True))
    n_pred, n_gold = sum(map(len, pred_sets)), sum(map(len, gold_sets))
    normal = [i for i, g in enumerate(gold_sets) if not g]
    return {
        "reports": len(gold_sets),
        "present_f1": round(_f1(tp, n_pred, n_gold), 4),
        "precision": round(tp / max(n_pred, 1), 4),
        "recall": round(tp / max(n_gold, 1), 4),
        "clean_normals": round(sum(1 for i in normal if not pred_sets[i]) / max(len(normal), 1), 4),
    }


def load(path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise BoyaError(f"no such file: {path}")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise BoyaError(f"{path}:{n}: not JSON ({error.msg})") from None
        if not isinstance(row, dict) or "dictation" not in row or not ("report" in row or "present" in row):
            raise BoyaError(f"{path}:{n}: each line needs 'dictation' and 'report' (or 'present')")
        rows.append(row)
    if not rows:
        raise BoyaError(f"{path} has no dictations")
    return rows


def evaluate(rows: list[dict], extract_many) -> dict:
    """Extract every dictation (batched) and score against the gold in ``rows``."""
    preds = extract_many([r["dictation"] for r in rows])
    if all("report" in r for r in rows):
        result = score([r["report"] for r in rows], preds)
    else:
        result = score_present([set(r["present"]) for r in rows], preds)
    return result, preds

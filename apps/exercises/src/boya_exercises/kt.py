"""Knowledge tracing: predict a student's next answer from their past ones (DKT-style GRU, trained by boya.runtime).

Data is the ASSISTments format of the Deep Knowledge Tracing paper: three lines per student (number of attempts;
skill id of each attempt; 1/0 correctness). The model reads the (skill, correct) history with a GRU and scores
the next attempt from the hidden state together with an embedding of the skill asked next; long histories are
cut into windows of ``WINDOW`` attempts. ``evaluate_auc`` gives the AUC of next-response prediction.
"""

from dataclasses import dataclass
from pathlib import Path

from boya.errors import BoyaError

WINDOW = 200


@dataclass(frozen=True)
class KTConfig:
    n_skills: int = 124
    dim: int = 64
    hidden: int = 128


def read_logs(path) -> list[tuple[list[int], list[int]]]:
    """The students of an ASSISTments-format file as (skills, answers) lists; BoyaError on a malformed file."""
    path = Path(path)
    if not path.is_file():
        raise BoyaError(f"no such file: {path}")
    lines = [
        line.strip().rstrip(",") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    if len(lines) % 3:
        raise BoyaError(
            f"{path}: expected 3 lines per student (count, skills, answers), got {len(lines)} lines"
        )
    students = []
    for i in range(0, len(lines), 3):
        try:
            count = int(lines[i])
            skills = [int(x) for x in lines[i + 1].split(",") if x.strip()]
            answers = [int(x) for x in lines[i + 2].split(",") if x.strip()]
        except ValueError:
            raise BoyaError(f"{path}: line {i + 1}-{i + 3} is not numbers separated by commas") from None
        if (
            not count == len(skills) == len(answers)
            or any(a not in (0, 1) for a in answers)
            or any(s < 0 for s in skills)
        ):
            raise BoyaError(
                f"{path}: student at line {i + 1} has inconsistent counts, negative skills or answers other than 0/1"
            )
        students.append((skills, answers))
    if not students:
        raise BoyaError(f"{path}: no students")
    return students


def build_model(config: KTConfig):
    import torch
    from torch import nn

    class KnowledgeTracer(nn.Module):
        """GRU over (skill, correct) pairs; logit of the next answer from [hidden, next-skill embedding]."""

        def __init__(self):
            super().__init__()
            # 0 = padding; last pair = unknown skill
            self.interaction = nn.Embedding(2 * config.n_skills + 3, config.dim)
            self.skill = nn.Embedding(config.n_skills + 1, config.dim)
            self.gru = nn.GRU(config.dim, config.hidden, batch_first=True)
            self.head = nn.Sequential(
                nn.Linear(config.hidden + config.dim, config.hidden), nn.ReLU(), nn.Linear(config.hidden, 1)
            )

        def forward(self, interactions, next_skills):
            hidden, _ = self.gru(self.interaction(interactions))  # (B, T, H)
            return self.head(torch.cat([hidden, self.skill(next_skills)], dim=-1)).squeeze(-1)  # (B, T)

    return KnowledgeTracer()


def windows(students, n_skills: int, window: int = WINDOW) -> list[dict]:
    """Per window: interactions x_1..x_{T-1}, next skills q_2..q_T, labels y_2..y_T (unknown skills → n_skills)."""
    import torch

    items = []
    for skills, answers in students:
        skills = [s if s < n_skills else n_skills for s in skills]
        for start in range(0, max(len(skills) - 1, 0), window):
            chunk_s, chunk_a = skills[start : start + window + 1], answers[start : start + window + 1]
            if len(chunk_s) < 2:
                continue
            x = [1 + 2 * s + a for s, a in zip(chunk_s[:-1], chunk_a[:-1], strict=True)]
            items.append(
                {
                    "x": torch.tensor(x),
                    "q": torch.tensor(chunk_s[1:]),
                    "y": torch.tensor(chunk_a[1:], dtype=torch.float32),
                }
            )
    return items


def batches(items: list[dict], batch_size: int) -> list[dict]:
    """Micro-batches of windows of similar length (sorted, then cut), so little compute goes to padding."""
    ordered = sorted(items, key=lambda item: len(item["x"]))
    return [collate(ordered[i : i + batch_size]) for i in range(0, len(ordered), batch_size)]


def collate(batch: list[dict]) -> dict:
    from torch.nn.utils.rnn import pad_sequence

    return {
        "x": pad_sequence([item["x"] for item in batch], batch_first=True),
        "q": pad_sequence([item["q"] for item in batch], batch_first=True),
        "y": pad_sequence([item["y"] for item in batch], batch_first=True, padding_value=-1.0),
    }


def loss_fn(model, batch):
    """Binary cross-entropy summed over real positions, and their count (token-exact accumulation)."""
    import torch.nn.functional as F

    logits = model(batch["x"], batch["q"])
    mask = batch["y"] >= 0
    loss = F.binary_cross_entropy_with_logits(logits[mask], batch["y"][mask], reduction="sum")
    return loss, mask.sum()


def predict(model, students, n_skills: int, batch_size: int = 64):
    """(probabilities, labels) of every next answer in ``students`` (first answers have no history and are skipped)."""
    import torch

    probabilities, labels = [], []
    model.eval()
    with torch.no_grad():
        for batch in batches(windows(students, n_skills), batch_size):
            mask = batch["y"] >= 0
            probabilities.append(torch.sigmoid(model(batch["x"], batch["q"]))[mask])
            labels.append(batch["y"][mask])
    return torch.cat(probabilities).numpy(), torch.cat(labels).numpy()


def auc(probabilities, labels) -> float:
    """Area under the ROC curve (Mann-Whitney, ties averaged)."""
    from scipy.stats import rankdata

    positives = labels == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if not n_pos or not n_neg:
        raise BoyaError("AUC needs both correct and incorrect answers in the test data")
    ranks = rankdata(probabilities)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def load(folder: Path):
    """The model saved by the ``exercises-kt`` recipe in ``folder`` (model.safetensors + kt.json)."""
    import json

    from boya.runtime import load_weights

    meta = json.loads((Path(folder) / "kt.json").read_text())
    config = KTConfig(**meta["config"])
    model = build_model(config)
    load_weights(Path(folder) / "model.safetensors", model)
    return model, config


def elo_predictions(train_students, test_students):
    """The engine's own online student model (student_model.update) on these logs, one skill = one KP at level 3.

    Hardness is calibrated by running the training students through it; then every test answer is predicted
    before it updates the student — the same order of events as in the engine.
    """
    import numpy as np

    from . import student_model as sm

    hardness = sm.Hardness()
    for skills, answers in train_students:
        student = sm.StudentState()
        for skill, answer in zip(skills, answers, strict=True):
            sm.update(student, hardness, str(skill), 3, bool(answer))
    probabilities, labels = [], []
    for skills, answers in test_students:
        student = sm.StudentState()
        for i, (skill, answer) in enumerate(zip(skills, answers, strict=True)):
            p = sm.update(student, hardness, str(skill), 3, bool(answer))
            if i:
                probabilities.append(p)
                labels.append(answer)
    return np.array(probabilities), np.array(labels)

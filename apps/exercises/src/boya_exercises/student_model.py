"""The student model: per-KP ability updated online (Elo / Rasch), item hardness calibrated from everyone's answers.

P(correct) = σ(θ_student + θ_kp − b_(kp, difficulty)). The generator's difficulty labels only seed b; every answer
moves the student's θ and the item's b in opposite directions (an Elo-style stochastic-gradient step on the
Rasch likelihood), with step sizes that shrink as evidence accumulates. That is the bandit calibration the policy
relies on: it learns how hard each (KP, difficulty) really is for this population, whatever the label said.
"""

import math
from dataclasses import dataclass, field

LABEL_SPACING = 0.9
MASTERY_LEVEL = 4
MASTERY_P = 0.75
MASTERY_MIN_ATTEMPTS = 5
RECENT = 12


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def prior_hardness(difficulty: int) -> float:
    """What the generator's label claims: level 3 is average, each level one step of ``LABEL_SPACING`` logits."""
    return LABEL_SPACING * (difficulty - 3)


@dataclass
class KPState:
    """One student's record on one knowledge point."""

    theta: float = 0.0
    attempts: int = 0
    correct: int = 0
    last_difficulty: int | None = None
    recent: str = ""


@dataclass
class StudentState:
    """A student's overall ability and answer streaks (across KPs: frustration and boredom do not reset on a new KP)."""

    theta: float = 0.0
    attempts: int = 0
    miss_streak: int = 0
    hit_streak: int = 0
    kps: dict[str, KPState] = field(default_factory=dict)


@dataclass
class Hardness:
    """Calibrated hardness b of each (KP, difficulty), shared by all students."""

    table: dict[tuple[str, int], tuple[float, int]] = field(default_factory=dict)

    def b(self, kp: str, difficulty: int) -> float:
        return self.table.get((kp, difficulty), (prior_hardness(difficulty), 0))[0]

    def count(self, kp: str, difficulty: int) -> int:
        return self.table.get((kp, difficulty), (0.0, 0))[1]


def kp_state(student: StudentState, kp: str, prerequisites=()) -> KPState:
    """The student's record on ``kp``, started from what they showed on its prerequisites (graph-aware prior)."""
    if kp not in student.kps:
        known = [student.kps[p].theta for p in prerequisites if p in student.kps and student.kps[p].attempts]
        student.kps[kp] = KPState(theta=0.5 * sum(known) / len(known) if known else 0.0)
    return student.kps[kp]


def predict(student: StudentState, hardness: Hardness, kp: str, difficulty: int) -> float:
    state = student.kps.get(kp, KPState())
    return sigmoid(student.theta + state.theta - hardness.b(kp, difficulty))


def mastery(student: StudentState, hardness: Hardness, kp: str) -> float:
    """Estimated chance of solving a level-4 item of ``kp`` now (0-1)."""
    return predict(student, hardness, kp, MASTERY_LEVEL)


def is_mastered(student: StudentState, hardness: Hardness, kp: str) -> bool:
    state = student.kps.get(kp)
    return bool(
        state and state.attempts >= MASTERY_MIN_ATTEMPTS and mastery(student, hardness, kp) >= MASTERY_P
    )


def update(student: StudentState, hardness: Hardness, kp: str, difficulty: int, correct: bool) -> float:
    """Apply one answer; return the prediction it was scored against."""
    state = kp_state(student, kp)
    p = predict(student, hardness, kp, difficulty)
    error = (1.0 if correct else 0.0) - p
    state.theta += max(0.25, 1.0 / (1.0 + 0.15 * state.attempts)) * error
    student.theta += max(0.05, 0.3 / (1.0 + 0.05 * student.attempts)) * error
    b, n = hardness.table.get((kp, difficulty), (prior_hardness(difficulty), 0))
    hardness.table[(kp, difficulty)] = (b - max(0.03, 0.5 / (1.0 + 0.05 * n)) * error, n + 1)
    state.attempts += 1
    state.correct += int(correct)
    state.last_difficulty = difficulty
    state.recent = (state.recent + ("1" if correct else "0"))[-RECENT:]
    student.miss_streak = 0 if correct else student.miss_streak + 1
    student.hit_streak = student.hit_streak + 1 if correct else 0
    student.attempts += 1
    return p

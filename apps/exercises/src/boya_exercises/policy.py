"""What to practise next: a knowledge point among the ready-to-learn ones, then a difficulty aimed at p ≈ 0.75.

KP choice follows ZPDES (Clement et al. 2015): the candidates are the ready-to-learn standards of the lowest
grade levels still open (the zone of proximal development), sampled in proportion to their recent learning
progress, with some exploration so a new standard gets tried. Difficulty targets a success probability of 0.75,
kept inside the [0.60, 0.85] band, using the calibrated student model. The target moves with the student's
streaks, because completion is lost to frustration after misses and to boredom after long runs of hits:
after one miss aim easier (0.82); after two misses in a row step one level below the last one whatever the model
says (the staircase's safety net) and aim at 0.9; after three hits in a row aim at the band's lower edge (0.60). Streaks are
counted across knowledge points: a student's frustration does not reset when the topic changes.
"""

from random import Random

from . import student_model as sm
from .graph import ready_to_learn, servable_graph

TARGET = 0.75
BAND = (0.60, 0.85)
AFTER_MISS = 0.82
AFTER_MISSES = 0.9
AFTER_HITS = 0.60
HIT_RUN = 3
EXPLORE = 0.2


def mastered_set(student: sm.StudentState, hardness: sm.Hardness) -> set[str]:
    return {kp for kp in student.kps if sm.is_mastered(student, hardness, kp)}


def zone(student: sm.StudentState, hardness: sm.Hardness) -> list[str]:
    """Ready-to-learn standards within one grade level of the lowest one still open."""
    graph = servable_graph()
    fringe = ready_to_learn(mastered_set(student, hardness))
    if not fringe:
        return sorted(graph, key=lambda kp: -graph.nodes[kp]["level"])[:1]
    lowest = min(graph.nodes[kp]["level"] for kp in fringe)
    return [kp for kp in fringe if graph.nodes[kp]["level"] <= lowest + 1]


def learning_progress(state: sm.KPState | None) -> float:
    """|success rate of the last 3 answers − the 3 before|; untried standards get an optimistic 0.5."""
    if state is None or len(state.recent) < 6:
        return 0.5
    recent, older = state.recent[-3:], state.recent[-6:-3]
    return abs(recent.count("1") - older.count("1")) / 3


def choose_kp(
    student: sm.StudentState, hardness: sm.Hardness, rng: Random, current: str | None = None
) -> str:
    """ZPDES: sample a standard of the zone in proportion to learning progress (plus exploration)."""
    candidates = zone(student, hardness)
    if current in candidates and rng.random() < 0.5:
        return current
    if rng.random() < EXPLORE:
        return rng.choice(candidates)
    weights = [learning_progress(student.kps.get(kp)) + 0.05 for kp in candidates]
    return rng.choices(candidates, weights=weights)[0]


def choose_difficulty(student: sm.StudentState, hardness: sm.Hardness, kp: str) -> int:
    """The level whose predicted success is nearest the streak-adjusted target; never harder than the last one
    on this KP right after a miss, and one level below it after two misses in a row."""
    state = student.kps.get(kp)
    target = TARGET
    if student.miss_streak >= 2:
        target = AFTER_MISSES
    elif student.miss_streak == 1:
        target = AFTER_MISS
    elif student.hit_streak >= HIT_RUN:
        target = AFTER_HITS
    predictions = {d: sm.predict(student, hardness, kp, d) for d in range(1, 6)}
    level = min(predictions, key=lambda d: abs(predictions[d] - target))
    if state and state.last_difficulty and student.miss_streak:
        ceiling = state.last_difficulty - (1 if student.miss_streak >= 2 else 0)
        level = min(level, max(1, ceiling))
    return level


def prerequisites(kp: str) -> list[str]:
    return list(servable_graph().predecessors(kp))

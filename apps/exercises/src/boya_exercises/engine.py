"""The adaptive engine the tutor protocol and the web UI share: next exercise, answer, state, one-off generation."""

import hashlib
import sys
from random import Random

from boya.errors import BoyaError

from . import policy
from . import student_model as sm
from .exercise import TYPES, check_request, generate
from .store import Store


def _seed(*parts) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


class Engine:
    """Serves each student the knowledge point and difficulty the policy picks, and learns from their answers.

    ``stem_writer`` optionally rewords problems as stories (see :mod:`boya_exercises.stem_writers`).
    """

    def __init__(self, store: Store | None = None, stem_writer=None):
        self.store = store or Store()
        self.stem_writer = stem_writer

    def next(self, student: str) -> dict:
        with self.store.student_session(student) as tx:
            state, hardness = tx.load()
            attempts = tx.attempts()
            rng = Random(_seed(student, attempts, len(tx.pending())))
            last = max(state.kps.items(), key=lambda item: item[1].attempts, default=(None, None))[0]
            kp = policy.choose_kp(state, hardness, rng, current=last)
            sm.kp_state(state, kp, policy.prerequisites(kp))
            difficulty = policy.choose_difficulty(state, hardness, kp)
            exercise_type = TYPES[attempts % len(TYPES)]
            exercise = generate(
                kp, exercise_type, difficulty, seed=rng.getrandbits(63), stem_writer=self.stem_writer
            )
            tx.serve(exercise)
            return exercise

    def answer(self, student: str, exercise_id: str, correct, seconds=None) -> dict:
        """Record an answer to a served exercise; returns the student's mastery per practised KP."""
        if not isinstance(correct, bool):
            raise BoyaError("'correct' must be true or false")
        if seconds is not None and (
            isinstance(seconds, bool)
            or not isinstance(seconds, (int, float))
            or not 0 <= seconds <= sys.float_info.max
        ):  # NaN, Infinity and 1e400 too
            raise BoyaError("'seconds' must be a finite non-negative number")
        if not isinstance(exercise_id, str):
            raise BoyaError("'exercise_id' must be a string")
        with self.store.student_session(student) as tx:
            exercise = tx.take_served(exercise_id)
            state, hardness = tx.load()
            sm.kp_state(state, exercise["kp"], policy.prerequisites(exercise["kp"]))
            predicted = sm.update(state, hardness, exercise["kp"], exercise["difficulty"], correct)
            tx.record(exercise, correct, seconds, predicted)
            tx.save(state, hardness, exercise["kp"], exercise["difficulty"])
            return self._mastery(state, hardness)

    def state(self, student: str) -> dict:
        with self.store.student_session(student) as tx:
            state, hardness = tx.load()
            return {"mastery": self._mastery(state, hardness), "attempts": tx.attempts()}

    def details(self, student: str) -> dict:
        """Mastery, the ready-to-learn zone and the pending exercises: what the UI shows beside the card."""
        with self.store.student_session(student) as tx:
            state, hardness = tx.load()
            return {
                "mastery": self._mastery(state, hardness),
                "attempts": tx.attempts(),
                "mastered": sorted(policy.mastered_set(state, hardness)),
                "zone": policy.zone(state, hardness),
                "pending": tx.pending(),
            }

    def generate(self, kp: str, difficulty, exercise_type: str) -> dict:
        check_request(kp, exercise_type, difficulty)
        return generate(kp, exercise_type, difficulty, stem_writer=self.stem_writer)

    @staticmethod
    def _mastery(state: sm.StudentState, hardness: sm.Hardness) -> dict:
        return {kp: round(sm.mastery(state, hardness, kp), 4) for kp in sorted(state.kps)}

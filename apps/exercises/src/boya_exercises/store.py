"""Students, served exercises, attempts and estimates in SQLAlchemy (via ``boya.storage``: ``--db`` URL, else
``BOYA_DATABASE_URL``, else the app's SQLite file).

Every change a request makes happens in one transaction that first locks the student's row, so two sessions of
the same student (two tutor processes, a browser tab and a tutor) take turns instead of overwriting each other's
estimates, and an answer is recorded exactly once. SQLite transactions start with ``BEGIN IMMEDIATE`` (the write
lock is taken up front, waiting up to 30 s for another writer); other databases use ``SELECT … FOR UPDATE``.
The schema is managed by the Alembic migrations in ``boya_exercises/migrations``, applied when the store opens.
"""

from contextlib import contextmanager
from datetime import UTC, datetime

from boya import storage
from boya.errors import BoyaError
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
    func,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from . import student_model as sm


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Student(Base):
    __tablename__ = "exercise_students"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    theta: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    miss_streak: Mapped[int] = mapped_column(Integer, default=0)
    hit_streak: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Served(Base):
    """An exercise handed to a student; ``answered_at`` is set exactly once, by the answer that consumes it."""

    __tablename__ = "exercise_served"
    __table_args__ = (Index("ix_exercise_served_student_exercise", "student_id", "exercise_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("exercise_students.id"))
    exercise_id: Mapped[str] = mapped_column(String(64))
    kp: Mapped[str] = mapped_column(String(32))
    difficulty: Mapped[int] = mapped_column(Integer)
    exercise: Mapped[dict] = mapped_column(JSON)
    served_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Attempt(Base):
    __tablename__ = "exercise_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("exercise_students.id"), index=True)
    exercise_id: Mapped[str] = mapped_column(String(64))
    kp: Mapped[str] = mapped_column(String(32))
    difficulty: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    correct: Mapped[bool] = mapped_column(Boolean)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    predicted: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Estimate(Base):
    __tablename__ = "exercise_estimates"
    student_id: Mapped[str] = mapped_column(ForeignKey("exercise_students.id"), primary_key=True)
    kp: Mapped[str] = mapped_column(String(32), primary_key=True)
    theta: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer)
    correct: Mapped[int] = mapped_column(Integer)
    last_difficulty: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recent: Mapped[str] = mapped_column(String(32))


class ItemHardness(Base):
    __tablename__ = "exercise_hardness"
    kp: Mapped[str] = mapped_column(String(32), primary_key=True)
    difficulty: Mapped[int] = mapped_column(Integer, primary_key=True)
    b: Mapped[float] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer)


MIGRATIONS = "boya_exercises.migrations"
VERSION_TABLE = "exercises_alembic_version"  # its own, so exercises can share a database with other apps


class Store:
    """The app's database. ``with store.student_session(id) as tx:`` gives a locked, transactional view of one student."""

    def __init__(self, url: str | None = None):
        self.url = storage.database_url("exercises", url)
        self.engine = storage.create_engine(self.url)
        self.sqlite = self.engine.dialect.name == "sqlite"
        if self.sqlite:
            _immediate_transactions(self.engine)
            self.engine.dispose()
        self.revision = storage.upgrade(
            self.engine, MIGRATIONS, VERSION_TABLE, legacy_table=Student.__tablename__
        )

    @contextmanager
    def student_session(self, student_id: str):
        """A transaction holding the student's lock; yields a :class:`StudentTx`. Commits on success, else rolls back."""
        if not isinstance(student_id, str) or not student_id.strip() or len(student_id) > 128:
            raise BoyaError("student must be a non-empty string of at most 128 characters")
        with Session(self.engine) as session, session.begin():
            query = select(Student).where(Student.id == student_id)
            if not self.sqlite:
                query = query.with_for_update()
            student = session.scalars(query).first()
            if student is None:
                student = Student(id=student_id, theta=0.0, attempts=0, miss_streak=0, hit_streak=0)
                session.add(student)
                session.flush()
            yield StudentTx(session, student, self.sqlite)

    @contextmanager
    def read(self):
        with Session(self.engine) as session:
            yield session

    def class_stats(self) -> dict:
        """Per-KP counts and success rates over all students, for the teacher view."""
        with self.read() as session:
            rows = session.execute(
                select(
                    Attempt.kp,
                    func.count(),
                    func.sum(func.cast(Attempt.correct, Integer)),
                    func.count(func.distinct(Attempt.student_id)),
                ).group_by(Attempt.kp)
            ).all()
            students = session.scalar(select(func.count()).select_from(Student))
        return {
            "students": students or 0,
            "kps": {kp: {"attempts": n, "success": (ok or 0) / n, "students": s} for kp, n, ok, s in rows},
        }

    def student_ids(self) -> list[str]:
        with self.read() as session:
            return list(session.scalars(select(Student.id).order_by(Student.id)))


class StudentTx:
    """One student's state inside a locked transaction."""

    def __init__(self, session: Session, student: Student, sqlite: bool):
        self.session, self.row, self.sqlite = session, student, sqlite

    def load(self) -> tuple[sm.StudentState, sm.Hardness]:
        state = sm.StudentState(
            theta=self.row.theta,
            attempts=self.row.attempts,
            miss_streak=self.row.miss_streak,
            hit_streak=self.row.hit_streak,
        )
        for est in self.session.scalars(select(Estimate).where(Estimate.student_id == self.row.id)):
            state.kps[est.kp] = sm.KPState(
                est.theta, est.attempts, est.correct, est.last_difficulty, est.recent
            )
        hardness = sm.Hardness(
            {(h.kp, h.difficulty): (h.b, h.n) for h in self.session.scalars(select(ItemHardness))}
        )
        return state, hardness

    def save(self, state: sm.StudentState, hardness: sm.Hardness, kp: str, difficulty: int) -> None:
        """Write the student's estimates and the one hardness entry an answer changed."""
        self.row.theta, self.row.attempts = state.theta, state.attempts
        self.row.miss_streak, self.row.hit_streak = state.miss_streak, state.hit_streak
        for kp_id, kp_state in state.kps.items():
            est = self.session.get(Estimate, (self.row.id, kp_id))
            if est is None:
                est = Estimate(student_id=self.row.id, kp=kp_id)
                self.session.add(est)
            est.theta, est.attempts, est.correct = kp_state.theta, kp_state.attempts, kp_state.correct
            est.last_difficulty, est.recent = kp_state.last_difficulty, kp_state.recent
        b, n = hardness.table[(kp, difficulty)]
        query = select(ItemHardness).where(ItemHardness.kp == kp, ItemHardness.difficulty == difficulty)
        row = self.session.scalars(query if self.sqlite else query.with_for_update()).first()
        if row is None:
            self.session.add(ItemHardness(kp=kp, difficulty=difficulty, b=b, n=n))
        else:
            row.b, row.n = b, n

    def serve(self, exercise: dict) -> None:
        self.session.add(
            Served(
                student_id=self.row.id,
                exercise_id=exercise["id"],
                kp=exercise["kp"],
                difficulty=exercise["difficulty"],
                exercise=exercise,
            )
        )

    def take_served(self, exercise_id: str) -> dict:
        """Mark the served, unanswered exercise as answered (once) and return it; BoyaError otherwise."""
        served = self.session.scalars(
            select(Served)
            .where(
                Served.student_id == self.row.id,
                Served.exercise_id == exercise_id,
                Served.answered_at.is_(None),
            )
            .order_by(Served.id)
            .limit(1)
        ).first()
        if served is None:
            answered = self.session.scalars(
                select(Served.id).where(Served.student_id == self.row.id, Served.exercise_id == exercise_id)
            ).first()
            reason = "was already answered" if answered else "was not served to this student"
            raise BoyaError(f"exercise {exercise_id!r} {reason}")
        result = self.session.execute(
            update(Served)
            .where(Served.id == served.id, Served.answered_at.is_(None))
            .values(answered_at=_now())
        )
        if result.rowcount != 1:
            raise BoyaError(f"exercise {exercise_id!r} was already answered")
        return served.exercise

    def record(self, exercise: dict, correct: bool, seconds: float | None, predicted: float) -> None:
        self.session.add(
            Attempt(
                student_id=self.row.id,
                exercise_id=exercise["id"],
                kp=exercise["kp"],
                difficulty=exercise["difficulty"],
                type=exercise["type"],
                correct=correct,
                seconds=seconds,
                predicted=predicted,
            )
        )

    def attempts(self) -> int:
        return self.session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.student_id == self.row.id)
        )

    def pending(self) -> list[dict]:
        return [
            s.exercise
            for s in self.session.scalars(
                select(Served).where(Served.student_id == self.row.id, Served.answered_at.is_(None))
            )
        ]


def _immediate_transactions(engine) -> None:
    """SQLite: let SQLAlchemy, not the driver, begin transactions, and take the write lock at BEGIN."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

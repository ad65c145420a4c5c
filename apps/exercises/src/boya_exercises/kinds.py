"""The exercise types and difficulty levels the schema allows; import-light so the CLI can offer them as choices."""

TYPES = ("multiple_choice", "fill_blank", "true_false", "short_answer")
DIFFICULTIES = range(1, 6)

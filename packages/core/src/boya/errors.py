"""The error type for mistakes a user can fix (bad input, missing file, unknown name).

The CLI prints a ``BoyaError`` as one line and exits with status 2, no traceback.
Anything else is a bug and keeps its traceback.
"""


class BoyaError(Exception):
    """A problem with the user's input or environment, worded so they can act on it."""

"""Stage 8: deliver archived HL7 messages from the durable outbox over MLLP, until acknowledged.

The message is in the outbox (same database as the report) before the first byte is
sent. A connection failure or a missing ACK leaves it pending and is retried with
exponential backoff; ``AA`` marks it acknowledged; ``AE``/``AR`` mark it rejected
(kept with the receiver's reason; sending the same bytes again would not help, a
corrected version gets a new control id). A message already acknowledged is never
sent again: the control id (one per report version) is the idempotency key.
"""

import datetime
import time

from .archive import Archive
from .mllp import MLLPClient


def deliver(
    archive: Archive,
    control_id: str,
    *,
    timeout: float = 10.0,
    attempts: int = 3,
    backoff: float = 0.5,
    sleep=time.sleep,
) -> dict:
    """Send one outbox message, retrying connection failures ``attempts`` times; returns its outbox row."""
    row = archive.outbox_message(control_id)
    for attempt in range(1, attempts + 1):
        if row["status"] != "pending":
            return row
        wait = backoff * 2 ** (attempt - 1)
        try:
            with MLLPClient(row["host"], row["port"], timeout=timeout) as client:
                ack = client.send(row["er7"])
        except ConnectionError as error:
            row = archive.record_attempt(
                control_id,
                ack_code=None,
                ack_text=None,
                error=str(error),
                retry_at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
                + datetime.timedelta(seconds=wait),
            )
            if attempt < attempts:
                sleep(wait)
            continue
        return archive.record_attempt(
            control_id, ack_code=ack["code"], ack_text=ack["text"], error=None, retry_at=None
        )
    return row


def flush(archive: Archive, **options) -> list[dict]:
    """Try every pending message once more (e.g. after the receiver comes back); returns their rows."""
    return [deliver(archive, row["control_id"], **options) for row in archive.outbox("pending")]

"""MLLP (Minimal Lower Layer Protocol): HL7 messages framed as ``<VT> message <FS><CR>`` over TCP.

:class:`MLLPClient` sends a message and waits for its ACK on a connection it keeps
open for several messages. :class:`Receiver` is our own asyncio listener (hl7apy's
server answers one message per connection): it keeps each connection open, reads
any number of messages, validates each (:func:`boya_medreport.hl7.validate`), stores
valid ORU^R01 once per control id and answers ``AA`` (accepted, also for a
duplicate), ``AE`` (invalid message) or ``AR`` (not a message we accept).
"""

import asyncio
import datetime
import json
import logging
import os
import re
import socket
from pathlib import Path

from boya.errors import BoyaError

from . import hl7

log = logging.getLogger(__name__)

START, END = b"\x0b", b"\x1c\r"
MAX_MESSAGE = 4 * 1024 * 1024


def frame(er7: str) -> bytes:
    return START + er7.encode("utf-8") + END


def parse_ack(er7: str) -> dict:
    """``{"code", "control_id", "text"}`` from an ACK's MSA segment."""
    for seg in hl7.segments(er7):
        if seg[0] == "MSA":
            return {
                "code": seg[1] if len(seg) > 1 else "",
                "control_id": seg[2] if len(seg) > 2 else "",
                "text": hl7.unescape(seg[3]) if len(seg) > 3 else "",
            }
    raise BoyaError("the receiver answered without an MSA segment (not an HL7 ACK)")


def make_ack(message: str, code: str, text: str = "") -> str:
    """An ACK for ``message`` (its control id in MSA-2; reason, escaped, in MSA-3)."""
    msh = next((s for s in hl7.segments(message) if s[0] == "MSH"), None)
    control_id = msh[9] if msh and len(msh) > 9 else ""
    version = msh[11] if msh and len(msh) > 11 and msh[11] else "2.5"
    sender = (msh[2], msh[3]) if msh and len(msh) > 3 else ("", "")
    stamp = datetime.datetime.now().strftime("%Y%m%d%H%M%S")
    trigger = msh[8].split("^")[1] if msh and len(msh) > 8 and "^" in msh[8] else ""
    return "\r".join(
        [
            f"MSH|^~\\&|BOYA-LISTENER|BOYA|{sender[0]}|{sender[1]}|{stamp}||ACK^{trigger}^ACK|ACK{control_id}"[
                :200
            ]
            + f"|P|{version}",
            f"MSA|{code}|{control_id}" + (f"|{hl7.escape(text)[:200]}" if text else ""),
        ]
    )


class MLLPClient:
    """One TCP connection to an MLLP receiver; ``send`` returns the ACK's parsed MSA."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None
        self._buffer = b""

    def __enter__(self):
        try:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as error:
            raise ConnectionError(
                f"cannot connect to MLLP receiver {self.host}:{self.port}: {error.strerror or error}"
            ) from None
        return self

    def __exit__(self, *exc):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def send(self, er7: str) -> dict:
        """Send one message and wait (up to ``timeout``) for its ACK; a wrong or missing ACK raises ConnectionError."""
        assert self.sock is not None, "use MLLPClient as a context manager"
        try:
            self.sock.sendall(frame(er7))
            while END not in self._buffer:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError(
                        f"{self.host}:{self.port} closed the connection before acknowledging"
                    )
                self._buffer += chunk
                if len(self._buffer) > MAX_MESSAGE:
                    raise ConnectionError("ACK too large")
        except TimeoutError:
            raise ConnectionError(f"no ACK from {self.host}:{self.port} within {self.timeout:g} s") from None
        except OSError as error:
            raise ConnectionError(f"MLLP connection to {self.host}:{self.port} failed: {error}") from None
        raw, self._buffer = self._buffer.split(END, 1)
        ack = parse_ack(raw.lstrip(START).decode("utf-8", "replace"))
        sent_id = next((s[9] for s in hl7.segments(er7) if s[0] == "MSH" and len(s) > 9), "")
        if ack["control_id"] != sent_id:
            raise ConnectionError(f"ACK is for message {ack['control_id']!r}, not {sent_id!r}")
        return ack


class Receiver:
    """Our MLLP listener: many messages per connection, validated, stored once per control id, ACKed."""

    def __init__(self, out_dir, host: str = "127.0.0.1", port: int = 2575):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.host, self.port = host, port
        self.server: asyncio.base_events.Server | None = None
        self.log: list[dict] = []

    def handle_message(self, er7: str) -> str:
        """The ACK for one received message (and its file written, when accepted)."""
        er7 = "\r".join(re.split(r"\r\n|\r|\n", er7.strip()))
        msh = next((s for s in hl7.segments(er7) if s[0] == "MSH"), None)
        if msh is None or len(msh) < 12:
            code, text = "AR", "not an HL7 message (no MSH segment)"
        elif not msh[8].startswith("ORU^R01"):
            code, text = "AR", f"message type {msh[8]!r} not accepted here (ORU^R01 only)"
        else:
            problems = hl7.validate(er7)
            control_id = re.sub(r"[^A-Za-z0-9._-]", "_", msh[9])[:40] or "unnamed"
            if problems:
                code, text = "AE", "; ".join(problems)[:300]
            else:
                try:
                    self._store(control_id, er7)
                    code, text = "AA", ""
                except Exception as error:  # not stored: the sender keeps the message and retries
                    log.exception("could not store message %s", control_id)
                    code, text = "AE", f"could not store the message: {type(error).__name__}"
        entry = {"control_id": msh[9] if msh and len(msh) > 9 else None, "ack": code, "text": text}
        self.log.append(entry)
        return make_ack(er7, code, text)

    def _store(self, control_id: str, er7: str) -> None:
        """Write ``<id>.json`` then ``<id>.hl7``, each atomically (temp file, fsync, rename), before the ACK.

        The .hl7 appears last, so a reader that sees it finds the .json beside it; a crash before
        the .hl7 leaves no .hl7, the sender gets no ACK and resends, and the resend completes the
        pair. A message already stored whole (same control id) is acknowledged, not stored twice.
        """
        message, reading = self.out_dir / f"{control_id}.hl7", self.out_dir / f"{control_id}.json"
        if message.exists() and reading.exists():
            return
        _write_atomic(reading, json.dumps(hl7.read_oru(er7), indent=2).encode("utf-8"))
        _write_atomic(message, er7.encode("utf-8"))

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        buffer = b""
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                buffer += chunk
                if len(buffer) > MAX_MESSAGE and END not in buffer:
                    break
                while END in buffer:
                    raw, buffer = buffer.split(END, 1)
                    start = raw.find(START)
                    message = raw[start + 1 :] if start >= 0 else raw
                    ack = self.handle_message(message.decode("utf-8", "replace"))
                    writer.write(frame(ack))
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def start(self):
        try:
            self.server = await asyncio.start_server(self._connection, self.host, self.port)
        except OSError as error:
            raise BoyaError(
                f"cannot listen on {self.host}:{self.port} ({error.strerror}); choose another --port"
            ) from None
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def serve_forever(self):
        await self.start()
        async with self.server:
            await self.server.serve_forever()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)

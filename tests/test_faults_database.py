"""Fault injection: the database is unreachable when an app's CLI starts.

Down for good: one clear line on stderr (password hidden), exit status 2, after a few retries.
Refusing the first connections (still starting): the retries reach it and the command does its work.
"""

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from support import boya_env, free_port

BOYA = str(Path(sys.executable).with_name("boya"))
NEXT = '{"op": "next", "student": "s1"}\n'


def unreachable_postgres() -> str:
    """A PostgreSQL URL on a local port nobody listens on, with a password that must not be printed."""
    return f"postgresql+psycopg://boya:s3cret-pw@127.0.0.1:{free_port()}/boya"


@pytest.mark.slow
def test_unreachable_database_is_one_clear_line_for_every_app_cli(tmp_path):
    commands = {
        "exercises tutor": ([BOYA, "exercises", "tutor", "--db", unreachable_postgres()], NEXT),
        "medreport history": ([BOYA, "medreport", "history", "--db", unreachable_postgres()], None),
        "medreport outbox": ([BOYA, "medreport", "outbox", "--retry", "--db", unreachable_postgres()], None),
    }
    running = {
        name: subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=boya_env(),
        )
        for name, (args, _) in commands.items()
    }
    for name, process in running.items():
        out, err = process.communicate(commands[name][1], timeout=120)
        lines = err.strip().splitlines()
        assert process.returncode == 2, (name, out, err)
        assert len(lines) == 1 and "cannot reach the database" in lines[0] and "attempts" in lines[0], (
            name,
            err,
        )
        assert "s3cret-pw" not in err + out and "Traceback" not in err, name
        assert out == "", name


def test_missing_sqlite_folder_is_one_clear_line(tmp_path):
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}"
    for args in (["exercises", "tutor", "--db", url], ["medreport", "history", "--db", url]):
        result = subprocess.run(
            [BOYA, *args], input=NEXT, capture_output=True, text=True, env=boya_env(), timeout=120
        )
        assert result.returncode == 2, result
        assert (
            result.stderr.count("\n") == 1 and "folder" in result.stderr and "does not exist" in result.stderr
        )
        assert not (tmp_path / "no-such-folder").exists()


class FlakyProxy:
    """A TCP forwarder to the real database that hangs up on the first ``drop`` connections, as a database still starting does."""

    def __init__(self, target_host: str, target_port: int, drop: int):
        self.target, self.to_drop, self.dropped = (target_host, target_port), drop, 0
        self.loop = asyncio.new_event_loop()
        self.server = asyncio.run_coroutine_threadsafe(self._start(), self._run()).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    def _run(self):
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        return self.loop

    async def _start(self):
        return await asyncio.start_server(self._connection, "127.0.0.1", 0)

    async def _connection(self, reader, writer):
        if self.dropped < self.to_drop:
            self.dropped += 1
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))

    @staticmethod
    async def _pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    def close(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_database_that_comes_up_during_the_retries_is_used(database_url):
    real = make_url(database_url)
    proxy = FlakyProxy(real.host, real.port or 5432, drop=2)
    try:
        url = real.set(port=proxy.port).render_as_string(hide_password=False)
        result = subprocess.run(
            [BOYA, "exercises", "tutor", "--db", url],
            input=NEXT + '{"op": "state", "student": "s1"}\n',
            capture_output=True,
            text=True,
            env=boya_env(),
            timeout=120,
        )
    finally:
        proxy.close()
    assert result.returncode == 0, result.stderr
    assert proxy.dropped == 2
    served, state = (json.loads(line) for line in result.stdout.splitlines())
    assert served["exercise"]["kp"] and "attempts" in state

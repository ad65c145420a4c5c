"""The live stage: the /avatar page, its WebSocket, and the 100 Hz parameter stream to every viewer.

One :class:`Stage` per server process holds the avatar, the expression, the clip
being played and the live microphone state, and broadcasts a ~100-byte frame
every 10 ms, and one as soon as each microphone chunk (a 128-sample render
quantum of the page's AudioWorklet) has been analysed, to save latency: the
mouth's opening follows every chunk, the model's shape every 10 ms hop (see
:mod:`.live`). Each viewer has its own sender task. Parameter frames are state, not
events: a viewer keeps only the newest one, so a slow page or network skips
stale frames instead of working through a backlog of them (a queue of frames
added its length to the latency); control messages (clips, avatar, errors) are
queued in order (the last 64 of a viewer that stopped reading). A closed viewer is dropped; none delays the others.
The model runs inline on the event loop: a 10 ms chunk costs well under a
millisecond, less than handing it to a thread would.
"""

import asyncio
import gc
import json
import time
import uuid
from collections import deque
from importlib.resources import files

from boya.errors import BoyaError

from .animate import Animator, pack
from .motion import EXPRESSIONS
from .rig import MOUTH_PARAMS, PARAM_NAMES, avatars, get_avatar

TICK_S = 0.01
MAX_CONTROL = 64
MAX_CLIPS = 16


class Viewer:
    """One connected page: the newest parameter frame not yet sent, and the control messages still to send."""

    def __init__(self, websocket):
        self.websocket = websocket
        self.frame: str | None = None
        self.control: deque[str] = deque(maxlen=MAX_CONTROL)
        self.ready = asyncio.Event()
        self.live = None  # a LiveEngine while this viewer streams its microphone
        self.chunks = 0  # microphone messages received (the page numbers them the same way)

    def offer(self, text: str) -> None:
        """Queue a control message (event loop thread only)."""
        self.control.append(text)
        self.ready.set()

    def offer_frame(self, text: str) -> None:
        """Replace the pending parameter frame with a newer one (event loop thread only)."""
        self.frame = text
        self.ready.set()


class Stage:
    def __init__(self, avatar: str | None = None):
        found = avatars()
        if not found:
            raise BoyaError("no avatars are installed")
        self.rig = found[avatar] if avatar in found else found.get("aiko") or next(iter(found.values()))
        self.animator = Animator(self.rig)
        self.viewers: set[Viewer] = set()
        self.clips: dict[str, tuple[bytes, object]] = {}
        self._clip = None  # (clip, start_monotonic, prosody)
        self._live_shape = ("X", 0.0, 0.0, 0.0, -1.0)  # shape, energy, pitch, opening, monotonic time
        self._loop = None
        self._task = None
        self._t0 = time.monotonic()
        self._last_sent = 0.0

    # -- control (thread-safe: called from Gradio handlers and the CLI) --
    def set_avatar(self, name: str) -> None:
        self.rig = get_avatar(name)
        expression = self.animator.expression
        self.animator = Animator(self.rig)
        self.animator.expression = expression
        self._broadcast_threadsafe(json.dumps({"type": "avatar", "rig": self.rig, "params": PARAM_NAMES}))

    def set_expression(self, name: str) -> None:
        if name not in EXPRESSIONS:
            raise BoyaError(f"unknown expression {name!r}; choose from {', '.join(EXPRESSIONS)}")
        self.animator.expression = name

    def play(self, clip) -> str:
        """Start ``clip`` for every viewer: they fetch its audio and follow its mouth track on their audio clock."""
        from .animate import MouthSpring
        from .audio import wav_bytes

        clip_id = uuid.uuid4().hex[:12]
        self.clips[clip_id] = (wav_bytes(clip.samples, clip.rate), clip)
        while len(self.clips) > MAX_CLIPS:
            self.clips.pop(next(iter(self.clips)))
        spring = MouthSpring(self.rig)
        track = [[round(v, 3) for v in spring.step(s, 0.01).values()] for s in clip.shapes]
        message = {
            "type": "clip",
            "id": clip_id,
            "url": f"/anchor/clips/{clip_id}.wav",
            "duration": clip.duration,
            "mouth_params": list(MOUTH_PARAMS),
            "track": track,
        }
        self._clip = (clip, time.monotonic() + 0.05, clip.prosody())
        self._broadcast_threadsafe(json.dumps(message, separators=(",", ":")))
        return clip_id

    def mic(self, on: bool) -> None:
        """Ask pages opened with ``?mic=1`` to start or stop streaming their microphone."""
        self._broadcast_threadsafe(json.dumps({"type": "mic", "on": bool(on)}))

    # -- the frame stream --
    def current_frame(self, now: float, stamps: list | None = None) -> str:
        """The parameter frame at ``now``. One sent because a microphone chunk was just analysed carries that
        chunk's ``stamps`` ([chunk number, received, analysed], epoch ms; each viewer's sender appends when it
        sent the frame), so the page can split its latency stage by stage."""
        shape, energy, pitch, opening = "X", 0.0, 0.0, None
        if self._clip is not None:
            clip, start, prosody = self._clip
            k = int((now - start) * 100)
            if 0 <= k < len(clip.shapes):
                shape, (energy, pitch) = clip.shapes[k], prosody[k]
            elif k >= len(clip.shapes):
                self._clip = None
        live_shape, live_energy, live_pitch, live_opening, at = self._live_shape
        if now - at < 0.25:
            shape, energy, pitch, opening = live_shape, live_energy, live_pitch, live_opening
        params = self.animator.frame(now - self._t0, shape, float(energy), float(pitch), opening)
        frame = {"a": stamps} if stamps else {}  # first, where the sender finds it
        frame.update(t=round(now - self._t0, 2), s=shape, p=pack(params))
        return json.dumps(frame, separators=(",", ":"))

    def _send_all(self, text: str) -> None:
        for viewer in list(self.viewers):
            viewer.offer(text)

    def _send_frame(self, text: str) -> None:
        for viewer in list(self.viewers):
            viewer.offer_frame(text)

    def _broadcast_threadsafe(self, text: str) -> None:
        if self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._send_all(text)
        else:
            self._loop.call_soon_threadsafe(self._send_all, text)

    async def _tick(self) -> None:
        next_at = time.monotonic()
        while self.viewers:
            now = time.monotonic()
            if now - self._last_sent >= TICK_S * 0.9:
                self._last_sent = now
                self._send_frame(self.current_frame(now))
            next_at += TICK_S
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() - next_at > 0.1:  # fell far behind (machine stalled): don't try to catch up
                next_at = time.monotonic()
        self._task = None

    def live_update(self, engine, stamps: list) -> None:
        """A microphone chunk was analysed by ``engine`` (a :class:`.live.LiveEngine`): send a parameter frame
        now rather than at the next tick, with the newest shape and the opening of the newest audio."""
        now = time.monotonic()
        self._live_shape = (*engine.last, engine.opening, now)
        self._last_sent = now
        self._send_frame(self.current_frame(now, stamps))

    # -- one WebSocket connection --
    async def serve(self, websocket) -> None:
        self._loop = asyncio.get_running_loop()
        viewer = Viewer(websocket)
        viewer.offer(
            json.dumps(
                {"type": "hello", "rig": self.rig, "params": PARAM_NAMES, "expressions": list(EXPRESSIONS)}
            )
        )
        self.viewers.add(viewer)
        if self._task is None:
            self._task = asyncio.create_task(self._tick())
        sender = asyncio.create_task(self._send(viewer))
        try:
            while True:
                message = await websocket.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                if message.get("bytes") is not None:
                    self._on_audio(viewer, message["bytes"])
                elif message.get("text") is not None:
                    await self._on_text(viewer, message["text"])
        except Exception:  # noqa: BLE001 - a broken connection ends this viewer only
            pass
        finally:
            self.viewers.discard(viewer)
            sender.cancel()

    async def _send(self, viewer: Viewer) -> None:
        try:
            while True:
                await viewer.ready.wait()
                viewer.ready.clear()
                while viewer.control:
                    await viewer.websocket.send_text(viewer.control.popleft())
                if viewer.frame is not None:
                    text, viewer.frame = viewer.frame, None
                    if text.startswith('{"a":'):  # a live frame: its stamps get the time it left
                        text = text.replace("]", f",{time.time() * 1000:.1f}]", 1)
                    await viewer.websocket.send_text(text)
        except Exception:  # noqa: BLE001 - the receive loop notices the disconnect and cleans up
            self.viewers.discard(viewer)

    async def _on_text(self, viewer: Viewer, text: str) -> None:
        try:
            message = json.loads(text)
            kind = message.get("type")
            if kind == "ping":  # the page measures its round trip through the server (latency probe)
                viewer.offer(json.dumps({"type": "pong", "t": message.get("t")}))
            elif kind == "expression":
                self.set_expression(str(message.get("name")))
            elif kind == "mic":
                from .live import LiveEngine

                # The first engine imports torch and loads the model (seconds on a busy machine): build it in
                # a worker thread so the other viewers' streams never stall meanwhile.
                viewer.live = await asyncio.to_thread(LiveEngine, int(message.get("rate", 16000)))
                viewer.chunks = 0
                # The page holds its audio until now: chunks sent while the model loaded would queue up in
                # front of every later one, a backlog the stream would then carry as latency.
                viewer.offer(json.dumps({"type": "mic_ready"}))
            elif kind == "mic_off":
                viewer.live = None
            else:
                raise BoyaError(f"unknown message type {kind!r}")
        except (BoyaError, ValueError, AttributeError, TypeError) as error:
            viewer.offer(json.dumps({"type": "error", "message": str(error)}))

    def _on_audio(self, viewer: Viewer, data: bytes) -> None:
        if viewer.live is None:
            viewer.offer(
                json.dumps({"type": "error", "message": 'send {"type": "mic", "rate": N} before audio'})
            )
            return
        received = time.time() * 1000
        viewer.chunks += 1
        try:
            # Every chunk, whole hop or not, moves the opening: send a frame for each (only the newest hop's
            # shape is worth sending; earlier ones would be stale on arrival).
            viewer.live.push_pcm16(data)
            self.live_update(
                viewer.live, [viewer.chunks - 1, round(received, 1), round(time.time() * 1000, 1)]
            )
        except BoyaError as error:
            viewer.offer(json.dumps({"type": "error", "message": str(error)}))


_STAGE: Stage | None = None


def stage() -> Stage:
    """The process's stage, created on first use.

    Creating it also moves every object alive so far (torch, gradio, the app) out of
    the garbage collector's view (``gc.freeze``): a full collection over them takes
    tens of milliseconds, a visible stall in a 100 Hz stream.
    """
    global _STAGE
    if _STAGE is None:
        _STAGE = Stage()
        gc.collect()
        gc.freeze()
    return _STAGE


def page_html() -> str:
    html = files("boya_anchor").joinpath("web/avatar.html").read_text(encoding="utf-8")
    return html.replace("__EXPRESSIONS__", json.dumps(list(EXPRESSIONS)))


def add_routes(api) -> None:
    """The App's ``routes`` hook: /avatar, its script, rigs, clip audio and the /anchor/ws WebSocket."""
    from fastapi import HTTPException, WebSocket
    from fastapi.responses import HTMLResponse, JSONResponse, Response

    script = files("boya_anchor").joinpath("web/avatar.js").read_text(encoding="utf-8")

    @api.get("/avatar", response_class=HTMLResponse)
    def avatar_page():
        return page_html()

    @api.get("/anchor/avatar.js")
    def avatar_script():
        return Response(script, media_type="text/javascript")

    @api.get("/anchor/rigs/{name}.json")
    def rig_json(name: str):
        found = avatars()
        if name not in found:
            raise HTTPException(404, f"unknown avatar {name!r}")
        return JSONResponse(found[name])

    @api.get("/anchor/clips/{clip_id}.wav")
    def clip_audio(clip_id: str):
        entry = stage().clips.get(clip_id)
        if entry is None:
            raise HTTPException(404, "clip expired or unknown")
        return Response(entry[0], media_type="audio/wav")

    @api.websocket("/anchor/ws")
    async def anchor_ws(websocket: WebSocket):
        await websocket.accept()
        await stage().serve(websocket)

"""Video export: the same animation as the live stage, drawn with skia and encoded with PyAV.

H.264 (x264 ``ultrafast``/``zerolatency``) in yuv420p, AAC audio muxed in. The
encoder runs in its own thread so drawing frame n+1 overlaps encoding frame n.
Converting a whole 1080p RGBA frame to YUV costs more than drawing it, and the
background never changes, so only the rectangle the avatar covers (now or in
the previous frame, :attr:`.render.SkiaRenderer.changed`) is repainted, handed to
the encoder thread and converted into a persistent YUV image (:class:`DirtyYuv`).
"""

import queue
import threading
import time

import numpy as np
from boya.errors import BoyaError

from .animate import Animator
from .audio import resample
from .render import SkiaRenderer

AUDIO_RATE = 48_000


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise BoyaError(f"--size must look like 1920x1080, got {text!r}") from None
    if not (16 <= width <= 7680 and 16 <= height <= 4320) or width % 2 or height % 2:
        raise BoyaError(f"--size {text}: width and height must be even and between 16x16 and 7680x4320")
    return width, height


def frame_params(clip, rig, fps: int, expression: str = "neutral", seed: int = 0):
    """Yield one parameter frame per video frame; the animation itself advances in 10 ms steps."""
    animator = Animator(rig, seed)
    animator.expression = expression
    prosody = clip.prosody()
    n_video = int(np.ceil(clip.duration * fps))
    step = 0
    params = None
    for i in range(n_video):
        t = i / fps
        while step * 0.01 <= t or params is None:
            k = min(step, len(clip.shapes) - 1)
            shape = clip.shapes[k] if 0 <= step < len(clip.shapes) else "X"
            energy, pitch = prosody[k] if len(prosody) else (0.0, 0.0)
            params = animator.frame(step * 0.01, shape, float(energy), float(pitch))
            step += 1
        yield params


class DirtyYuv:
    """A yuv420p copy of the frame where each update converts only the rectangle the renderer changed."""

    def __init__(self, background: np.ndarray):
        import av

        self.height, self.width = background.shape[:2]
        full = av.VideoFrame.from_ndarray(np.ascontiguousarray(background), format="rgba").reformat(
            format="yuv420p"
        )
        self.planes = [self._plane(full, i).copy() for i in range(3)]

    @staticmethod
    def _plane(frame, i):
        plane = frame.planes[i]
        return np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[: plane.height, : plane.width]

    def update(self, box: tuple[int, int, int, int], rgba: np.ndarray):
        """``rgba``: the pixels of ``box`` = (y0, y1, x0, x1), even-aligned; returns the whole frame as an av.VideoFrame."""
        import av

        y0, y1, x0, x1 = box
        if y1 > y0 and x1 > x0:
            part = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgba), format="rgba").reformat(
                format="yuv420p"
            )
            self.planes[0][y0:y1, x0:x1] = self._plane(part, 0)
            for i in (1, 2):
                self.planes[i][y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = self._plane(part, i)
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        for i, plane in enumerate(self.planes):
            target = frame.planes[i]
            np.frombuffer(target, np.uint8).reshape(-1, target.line_size)[
                : plane.shape[0], : plane.shape[1]
            ] = plane
        return frame


def export_video(
    clip, rig, path, width=1920, height=1080, fps=60, expression="neutral", progress=False, crf=23
) -> dict:
    """Write ``clip`` animated on ``rig`` to ``path`` (MP4); return frames, seconds and fps of the encode."""
    import av

    frames = int(np.ceil(clip.duration * fps))
    try:
        container = av.open(str(path), mode="w")
    except (av.error.FFmpegError, OSError) as error:
        raise BoyaError(f"cannot write {path}: {error}") from None
    video = container.add_stream(
        "libx264", rate=fps, options={"preset": "ultrafast", "tune": "zerolatency", "crf": str(crf)}
    )
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    audio = container.add_stream("aac", rate=AUDIO_RATE, layout="mono")
    renderer = SkiaRenderer(rig, width, height)
    jobs: queue.Queue = queue.Queue(maxsize=4)
    failure = []

    yuv = DirtyYuv(renderer.background)

    def encode():
        try:
            while (job := jobs.get()) is not None:
                for packet in video.encode(yuv.update(*job)):
                    container.mux(packet)
        except Exception as error:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(error)

    worker = threading.Thread(target=encode, daemon=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    worker.start()
    bar = _progress(progress, frames)
    try:
        for i, params in enumerate(frame_params(clip, rig, fps, expression)):
            if failure:
                break
            pixels = renderer.draw(params)
            y0, y1, x0, x1 = renderer.changed
            # only what changed crosses to the encoder
            jobs.put((renderer.changed, pixels[y0:y1, x0:x1].copy()))
            if bar:
                bar[0].update(bar[1], completed=i + 1)
        jobs.put(None)
        worker.join()
        if failure:
            raise BoyaError(f"video encoding failed: {failure[0]}")
        for packet in video.encode(None):
            container.mux(packet)
        _mux_audio(container, audio, clip)
    finally:
        if bar:
            bar[0].stop()
        container.close()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "output": str(path),
        "frames": frames,
        "seconds": round(elapsed, 2),
        "export_fps": round(frames / elapsed, 1),
        "cpu_ms_per_frame": round(1000 * cpu / max(1, frames), 1),
        "size": f"{width}x{height}",
        "fps": fps,
        "duration_s": round(clip.duration, 2),
    }


def _mux_audio(container, stream, clip) -> None:
    import av

    samples = resample(clip.samples, clip.rate, AUDIO_RATE)
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    for start in range(0, len(pcm), 1024):
        chunk = pcm[start : start + 1024]
        frame = av.AudioFrame.from_ndarray(chunk[None, :], format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)


def _progress(enabled: bool, total: int):
    if not enabled:
        return None
    from rich.progress import Progress

    bar = Progress(transient=False)
    task = bar.add_task("render", total=total)
    bar.start()
    return bar, task

"""Draw a rig with skia, the server-side twin of ``web/avatar.js`` (same transforms, same mouth).

Used for video export and tests; a 1080p frame costs a few milliseconds, so the
encoder, not the drawing, sets the export speed. Each frame repaints only the
rectangle the avatar covers (now or in the previous frame), which the exporter
also uses to convert only that rectangle to YUV.
"""

import math

import numpy as np


def _linear(spec, base, params):
    if not spec:
        return base
    value = spec.get("base", base)
    for key, coef in spec.items():
        if key != "base":
            value += coef * params.get(key, 0.0)
    return value


def _affine(m, n):
    return [
        m[0] * n[0] + m[2] * n[1],
        m[1] * n[0] + m[3] * n[1],
        m[0] * n[2] + m[2] * n[3],
        m[1] * n[2] + m[3] * n[3],
        m[0] * n[4] + m[2] * n[5] + m[4],
        m[1] * n[4] + m[3] * n[5] + m[5],
    ]


def group_matrices(rig, params, root):
    """Each group's 2x3 affine matrix [a, b, c, d, e, f] (canvas convention), parents applied."""
    cache = {}

    def matrix(name):
        if name in cache:
            return cache[name]
        g = rig["groups"][name]
        parent = matrix(g["parent"]) if g.get("parent") else root
        px, py = g.get("pivot", (0, 0))
        th = math.radians(_linear(g.get("rot"), 0.0, params))
        sx, sy = _linear(g.get("sx"), 1.0, params), _linear(g.get("sy"), 1.0, params)
        c, s = math.cos(th), math.sin(th)
        local = [1, 0, 0, 1, _linear(g.get("tx"), 0.0, params) + px, _linear(g.get("ty"), 0.0, params) + py]
        local = _affine(local, [c * sx, s * sx, -s * sy, c * sy, 0, 0])
        local = _affine(local, [1, 0, 0, 1, -px, -py])
        cache[name] = _affine(parent, local)
        return cache[name]

    return {name: matrix(name) for name in rig["groups"]}


class SkiaRenderer:
    """Renders parameter frames of one rig to RGBA numpy arrays of ``width`` x ``height``."""

    def __init__(self, rig: dict, width: int = 1920, height: int = 1080, transparent: bool = False):
        import skia

        self.skia = skia
        self.rig, self.width, self.height = rig, width, height
        self.pixels = np.zeros((height, width, 4), np.uint8)  # RGBA, drawn into in place
        self.surface = skia.Surface(self.pixels)
        self.root = [width / rig["canvas"][0], 0, 0, height / rig["canvas"][1], 0, 0]
        self._colors = {}
        self._drawn = None  # (y0, y1, x0, x1) the avatar covered in the last frame
        self.changed = (0, height, 0, width)  # the rectangle the last draw() may have changed, even-aligned
        self.background = np.zeros_like(self.pixels)
        if not transparent:  # a gradient costs ~80 ms a frame to shade; shade it once and copy
            top, bottom = rig.get("background", ["#000000", "#000000"])
            shader = skia.GradientShader.MakeLinear(
                [(0, 0), (0, height)], [self._color(top), self._color(bottom)]
            )
            self.surface.getCanvas().drawPaint(skia.Paint(Shader=shader))
            self.background[:] = self.pixels

    def _color(self, hex_color: str, alpha: float = 1.0):
        base = self._colors.setdefault(hex_color, int(hex_color.lstrip("#"), 16))
        return self.skia.Color(
            (base >> 16) & 255, (base >> 8) & 255, base & 255, int(round(255 * max(0.0, min(1.0, alpha))))
        )

    def _box(self, matrices) -> tuple[int, int, int, int]:
        """(y0, y1, x0, x1), even-aligned: the pixels the avatar's parts can touch, strokes and anti-aliasing included."""
        xs, ys = [], []
        for part in self.rig["parts"]:
            kind = part["type"]
            if kind == "ellipse":
                box = (
                    part["cx"] - part["rx"],
                    part["cy"] - part["ry"],
                    part["cx"] + part["rx"],
                    part["cy"] + part["ry"],
                )
            elif kind == "rect":
                box = (part["x"], part["y"], part["x"] + part["w"], part["y"] + part["h"])
            elif kind == "mouth":
                box = (
                    part["cx"] - part["w"],
                    part["cy"] - 2 * part["h"],
                    part["cx"] + part["w"],
                    part["cy"] + 2 * part["h"],
                )
            else:
                box = (
                    min(x for x, _ in part["points"]),
                    min(y for _, y in part["points"]),
                    max(x for x, _ in part["points"]),
                    max(y for _, y in part["points"]),
                )
            pad = (part.get("width", 6) if part.get("stroke") or kind == "mouth" else 0) + 2
            a, b, c, d, e, f = matrices[part["group"]]
            for x in (box[0] - pad, box[2] + pad):
                for y in (box[1] - pad, box[3] + pad):
                    xs.append(a * x + c * y + e)
                    ys.append(b * x + d * y + f)
        y0, x0 = max(0, int(min(ys)) // 2 * 2), max(0, int(min(xs)) // 2 * 2)
        y1, x1 = min(self.height, (int(max(ys)) + 3) // 2 * 2), min(self.width, (int(max(xs)) + 3) // 2 * 2)
        return y0, max(y0, y1), x0, max(x0, x1)

    def draw(self, params: dict) -> np.ndarray:
        """Draw a frame. Only the avatar's rectangle, now and in the last frame, is repainted
        (:attr:`changed`): restoring the whole 1080p background cost more than drawing the avatar."""
        skia = self.skia
        canvas = self.surface.getCanvas()
        canvas.resetMatrix()
        matrices = group_matrices(self.rig, params, self.root)
        box = self._box(matrices)
        if self._drawn is None:
            self.changed = (0, self.height, 0, self.width)
        else:
            self.changed = (
                min(box[0], self._drawn[0]),
                max(box[1], self._drawn[1]),
                min(box[2], self._drawn[2]),
                max(box[3], self._drawn[3]),
            )
        self._drawn = box
        y0, y1, x0, x1 = self.changed
        self.pixels[y0:y1, x0:x1] = self.background[y0:y1, x0:x1]
        for part in self.rig["parts"]:
            a, b, c, d, e, f = matrices[part["group"]]
            canvas.setMatrix(skia.Matrix.MakeAll(a, c, e, b, d, f, 0, 0, 1))
            alpha = max(0.0, min(1.0, _linear(part.get("alpha"), 1.0, params)))
            if alpha > 0:
                self._part(canvas, part, params, alpha)
        self.surface.flushAndSubmit()
        return self.pixels  # (H, W, 4) RGBA, overwritten by the next call

    def _fill_stroke(self, canvas, path, part, alpha):
        skia = self.skia
        if part.get("fill"):
            canvas.drawPath(path, skia.Paint(Color=self._color(part["fill"], alpha), AntiAlias=True))
        if part.get("stroke"):
            canvas.drawPath(
                path,
                skia.Paint(
                    Color=self._color(part["stroke"], alpha),
                    AntiAlias=True,
                    Style=skia.Paint.kStroke_Style,
                    StrokeWidth=part.get("width", 4),
                    StrokeCap=skia.Paint.kRound_Cap,
                    StrokeJoin=skia.Paint.kRound_Join,
                ),
            )

    def _part(self, canvas, part, params, alpha):
        skia = self.skia
        kind = part["type"]
        if kind == "mouth":
            return self._mouth(canvas, part, params, alpha)
        path = skia.Path()
        if kind == "ellipse":
            path.addOval(
                skia.Rect.MakeXYWH(
                    part["cx"] - part["rx"], part["cy"] - part["ry"], 2 * part["rx"], 2 * part["ry"]
                )
            )
        elif kind == "rect":
            r = part.get("r", 0)
            path.addRRect(
                skia.RRect.MakeRectXY(skia.Rect.MakeXYWH(part["x"], part["y"], part["w"], part["h"]), r, r)
            )
        else:
            path.addPoly([skia.Point(x, y) for x, y in part["points"]], part.get("closed", True))
        self._fill_stroke(canvas, path, part, alpha)

    def _mouth(self, canvas, part, params, alpha):
        skia = self.skia
        o, w, r, f = params["MouthOpenY"], params["MouthWidth"], params["MouthRound"], params["MouthForm"]
        hw = part["w"] * (0.45 + 0.55 * w) * (1 - 0.35 * r)
        oh = part["h"] * o
        lift = -f * part["h"] * 0.3
        uo, lo = oh * 0.45 + r * oh * 0.3, oh * 0.55 + r * oh * 0.3
        cx, cy = part["cx"], part["cy"]
        lip = skia.Paint(
            Color=self._color(part["lip"], alpha),
            AntiAlias=True,
            Style=skia.Paint.kStroke_Style,
            StrokeWidth=6,
            StrokeCap=skia.Paint.kRound_Cap,
            StrokeJoin=skia.Paint.kRound_Join,
        )
        if oh < 1.5:
            line = skia.Path()
            line.moveTo(cx - hw, cy + lift)
            line.quadTo(cx, cy - lift, cx + hw, cy + lift)
            canvas.drawPath(line, lip)
            return
        path = skia.Path()
        path.moveTo(cx - hw, cy + lift)
        path.quadTo(cx, cy - 2 * uo, cx + hw, cy + lift)
        path.quadTo(cx, cy + 2 * lo, cx - hw, cy + lift)
        path.close()
        canvas.drawPath(path, skia.Paint(Color=self._color(part["fill"], alpha), AntiAlias=True))
        canvas.save()
        canvas.clipPath(path, doAntiAlias=True)
        top = cy + lift / 2 - uo
        canvas.drawRect(
            skia.Rect.MakeXYWH(cx - hw, top - 2, 2 * hw, min(uo + lo, part["h"] * 0.35)),
            skia.Paint(Color=self._color(part["teeth"], alpha * params["MouthTeeth"]), AntiAlias=True),
        )
        canvas.drawOval(
            skia.Rect.MakeXYWH(
                cx - hw * 0.6, cy + lift / 2 + lo - max(1, lo * 0.8), 1.2 * hw, 2 * max(1, lo * 0.8)
            ),
            skia.Paint(Color=self._color(part["tongue"], alpha * params["MouthTongue"]), AntiAlias=True),
        )
        canvas.restore()
        canvas.drawPath(path, lip)

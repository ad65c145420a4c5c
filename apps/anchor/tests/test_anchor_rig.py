"""Avatars: rig validation, the avatars hook, motion and the skia renderer."""

import json

import numpy as np
import pytest
from boya import hookimpl
from boya.errors import BoyaError
from boya.plugins import pm
from boya_anchor.animate import Animator, pack
from boya_anchor.motion import EXPRESSIONS, IdleMotion
from boya_anchor.render import SkiaRenderer, group_matrices
from boya_anchor.rig import PARAM_NAMES, avatars, builtin_rig_paths, get_avatar, load_rig, validate


def test_two_builtin_avatars_validate():
    found = avatars()
    assert {"aiko", "bolt"} <= set(found)
    for path in builtin_rig_paths():
        assert load_rig(path)["name"] in found


def test_plugins_can_add_avatars_and_duplicates_are_reported(tmp_path, capsys):
    rig = json.loads(builtin_rig_paths()[0].read_text())
    extra = dict(rig, name="extra", title="Extra")
    (tmp_path / "extra.json").write_text(json.dumps(extra))
    (tmp_path / "dup.json").write_text(json.dumps(rig))

    class ExtraAvatars:
        @hookimpl
        def avatars(self, register):
            register(tmp_path / "extra.json")
            register(tmp_path / "dup.json")

    plugin = ExtraAvatars()
    pm.register(plugin, name="test-extra-avatars")
    try:
        found = avatars()
        assert found["extra"]["title"] == "Extra"
        assert "already registered" in capsys.readouterr().err
    finally:
        pm.unregister(plugin)
    assert "extra" not in avatars()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r.pop("mouth"), "missing 'mouth'"),
        (lambda r: r["parts"].append({"type": "star", "group": "head"}), "type 'star'"),
        (lambda r: r["groups"]["head"].update(rot={"Wobble": 1}), "unknown parameter 'Wobble'"),
        (lambda r: r["mouth"].pop("G"), "A-H and X"),
        (lambda r: r["parts"].append({"type": "ellipse", "group": "head", "cx": 1}), "lacks"),
    ],
)
def test_broken_rigs_are_explained(change, message):
    rig = json.loads(builtin_rig_paths()[0].read_text())
    change(rig)
    with pytest.raises(BoyaError, match=message):
        validate(rig, "test")


def test_unreadable_rig_and_unknown_avatar(tmp_path):
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(BoyaError, match="cannot read"):
        load_rig(tmp_path / "bad.json")
    with pytest.raises(BoyaError, match="unknown avatar"):
        get_avatar("nobody")


def test_idle_motion_blinks_every_two_to_six_seconds_and_breathes():
    idle = IdleMotion(seed=3)
    frames = [idle.at(i / 100) for i in range(60 * 100)]
    closed = [i for i, f in enumerate(frames) if f["EyeLOpen"] < 0.2]
    starts = [i for k, i in enumerate(closed) if k == 0 or i - closed[k - 1] > 5]
    gaps = np.diff(starts) / 100
    assert 8 <= len(starts) <= 35 and gaps.min() >= 0.15 and gaps.max() <= 6.5
    breath = [f["Breath"] for f in frames]
    assert max(breath) > 0.95 and min(breath) < 0.05
    assert np.ptp([f["AngleX"] for f in frames]) > 2 and np.ptp([f["EyeBallX"] for f in frames]) > 0.3


def test_loud_voice_nods_the_head():
    quiet, loud = IdleMotion(seed=1), IdleMotion(seed=1)
    a = [quiet.at(i / 100, 0.0)["AngleY"] for i in range(100)]
    b = [loud.at(i / 100, 1.0)["AngleY"] for i in range(100)]
    assert b[-1] < a[-1] - 4


def test_mouth_follows_shapes_and_expressions_apply():
    rig = get_avatar("aiko")
    animator = Animator(rig)
    frames = [animator.frame(i / 100, "D") for i in range(10)]
    assert frames[-1]["MouthOpenY"] > 0.85 and frames[0]["MouthOpenY"] < frames[2]["MouthOpenY"]
    closed = [animator.frame(0.1 + i / 100, "A") for i in range(6)][-1]
    assert closed["MouthOpenY"] < 0.05
    for name, preset in EXPRESSIONS.items():
        animator.expression = name
        frame = animator.frame(1.0, "X")
        if "MouthForm" in preset:
            assert frame["MouthForm"] == preset["MouthForm"]
    assert len(pack(frame)) == len(PARAM_NAMES)


@pytest.mark.parametrize("name", ["aiko", "bolt"])
def test_renderer_draws_the_mouth_where_the_rig_says(name):
    rig = get_avatar(name)
    renderer = SkiaRenderer(rig, 480, 270)
    animator = Animator(rig)
    for i in range(12):
        params = animator.frame(i / 100, "D")
    opened = renderer.draw(params).copy()
    closed = renderer.draw({**params, **rig["mouth"]["X"]}).copy()
    assert closed.shape == (270, 480, 4) and closed[..., 3].min() == 255
    mouth = next(p for p in rig["parts"] if p["type"] == "mouth")
    matrix = group_matrices(rig, params, [0.25, 0, 0, 0.25, 0, 0])[mouth["group"]]
    x = matrix[0] * mouth["cx"] + matrix[2] * mouth["cy"] + matrix[4]
    y = matrix[1] * mouth["cx"] + matrix[3] * mouth["cy"] + matrix[5]
    diff = np.abs(closed.astype(int) - opened.astype(int)).sum(-1) > 30
    ys, xs = np.nonzero(diff)
    assert len(xs) > 50
    assert abs(np.median(xs) - x) < 15 and abs(np.median(ys) - y) < 15  # the change is at the mouth


@pytest.mark.parametrize("name", ["aiko", "bolt"])
def test_renderer_repaints_only_the_avatar_and_equals_a_full_redraw(name):
    rig = get_avatar(name)
    animator, renderer = Animator(rig), SkiaRenderer(rig, 480, 270)
    frames = [
        animator.frame(i / 10, "DBXFC"[i % 5], energy=1.0, pitch=0.5) for i in range(30)
    ]  # sway, nods, blinks
    frames[-1] = {
        **frames[-1],
        "AngleZ": -10.0,
        "AngleX": 30.0,
    }  # a big jump: the old position must be erased
    for params in frames:
        drawn = renderer.draw(params).copy()
    y0, y1, x0, x1 = renderer.changed
    assert 0 < (y1 - y0) * (x1 - x0) < 0.8 * 480 * 270 and y0 % 2 == x0 % 2 == y1 % 2 == x1 % 2 == 0
    assert np.array_equal(drawn, SkiaRenderer(rig, 480, 270).draw(frames[-1]))

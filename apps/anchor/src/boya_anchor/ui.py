"""The anchor tab: the control panel of the live stage (the avatar itself is drawn by /avatar).

Handlers are plain functions (tests call them directly); each returns a status
line. They act on the one stage of the server process, so every viewer, the
embedded preview and an OBS browser source alike, follows them.
"""

from boya.errors import BoyaError

from .motion import EXPRESSIONS

OBS_HELP = """**OBS**: add a *Browser* source with URL `http://HOST:PORT/avatar`, width 1920, height 1080,
and tick *Control audio via OBS* so script audio reaches the stream. `?bg=none` gives a transparent
background; `?mic=1` lets this panel start and stop that page's microphone (`?automic=1` starts it at once);
keys 1-6 on the page switch expressions, `m` toggles the microphone."""


def set_avatar(name: str) -> str:
    from .server import stage

    stage().set_avatar(name)
    return f"avatar: {name}"


def play_script(text: str, voice: str, rate: float) -> str:
    from .clips import script_clip
    from .server import stage

    try:
        clip = script_clip(text, voice, int(rate))
    except BoyaError as error:
        return f"error: {error}"
    stage().play(clip)
    return f"playing {clip.duration:.1f} s of {clip.source} ({len(clip.cues)} mouth cues) to {len(stage().viewers)} viewer(s)"


def play_audio(path: str | None) -> str:
    from .clips import audio_clip
    from .server import stage

    if not path:
        return "error: upload an audio file first"
    try:
        clip = audio_clip(path)
    except BoyaError as error:
        return f"error: {error}"
    stage().play(clip)
    return f"playing {clip.duration:.1f} s of uploaded audio ({len(clip.cues)} mouth cues) to {len(stage().viewers)} viewer(s)"


def mic(on: bool) -> str:
    from .server import stage

    stage().mic(on)
    return "microphone: asked pages opened with ?mic=1 to " + ("start" if on else "stop")


def expression(name: str) -> str:
    from .server import stage

    try:
        stage().set_expression(name)
    except BoyaError as error:
        return f"error: {error}"
    return f"expression: {name}"


def build_ui():
    import gradio as gr

    from .rig import avatars
    from .tts import available_voices

    names = sorted(avatars())
    with gr.Blocks() as blocks:
        gr.Markdown(
            "## Virtual anchor\nScript or microphone → mouth shapes and motion → the avatar at `/avatar`."
        )
        status = gr.Textbox(label="Status", interactive=False)
        with gr.Row():
            with gr.Column(scale=2):
                gr.HTML(
                    '<iframe src="/avatar?mic=1" allow="microphone; autoplay" '
                    'style="width:100%;aspect-ratio:16/9;border:0;background:#111"></iframe>'
                )
                gr.Markdown(OBS_HELP)
            with gr.Column(scale=1):
                avatar = gr.Dropdown(names, value="aiko" if "aiko" in names else names[0], label="Avatar")
                avatar.change(set_avatar, avatar, status, api_name="anchor_set_avatar")
                script = gr.Textbox(
                    label="Script", lines=3, value="Hello everyone, welcome back to the stream!"
                )
                voice = gr.Dropdown(available_voices(), value="espeak:en-us", label="Voice")
                rate = gr.Slider(100, 300, value=175, step=5, label="Words per minute (espeak)")
                gr.Button("Play script", variant="primary").click(
                    play_script, [script, voice, rate], status, api_name="anchor_play_script"
                )
                upload = gr.Audio(type="filepath", label="Audio file", sources=["upload"])
                gr.Button("Play audio").click(play_audio, upload, status, api_name="anchor_play_audio")
                with gr.Row():
                    gr.Button("Start mic").click(lambda: mic(True), None, status, api_name="anchor_mic_start")
                    gr.Button("Stop mic").click(lambda: mic(False), None, status, api_name="anchor_mic_stop")
                with gr.Row():
                    for name in EXPRESSIONS:
                        gr.Button(name, size="sm").click(
                            lambda n=name: expression(n), None, status, api_name=f"anchor_expression_{name}"
                        )
    return blocks

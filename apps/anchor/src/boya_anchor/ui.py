"""The anchor tab of the hub."""


def build_ui():
    import gradio as gr

    with gr.Blocks() as blocks:
        gr.Markdown("## Virtual anchor\nA real-time virtual anchor: speech to mouth shapes and motion, rendered in the browser and OBS.")
    return blocks

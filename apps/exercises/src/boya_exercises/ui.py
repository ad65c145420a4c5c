"""The exercises tab of the hub."""


def build_ui():
    import gradio as gr

    with gr.Blocks() as blocks:
        gr.Markdown("## Exercises\nPersonalised maths practice: a knowledge graph, verified generated exercises, adaptive difficulty.")
    return blocks

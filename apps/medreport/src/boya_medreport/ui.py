"""The medreport tab of the hub."""


def build_ui():
    import gradio as gr

    with gr.Blocks() as blocks:
        gr.Markdown("## Medical reports\nRadiology dictation to validated HL7 v2 / FHIR reports, archived and delivered over MLLP.")
    return blocks

import json

from boya.cli import cli
from boya.plugins import call_each
from click.testing import CliRunner

call_each("register_commands", cli=cli)

DICTATIONS = [
    "Patient Ann Lee, MRN 4242, DOB 3/4/1950, female. Exam: CT of the head. Findings: No intracranial hemorrhage. Impression: normal.",
    "Patient Bo Chen, MRN 77, DOB 1/2/1960, male. Exam: chest x-ray. Findings: There is a pneumothorax. Impression: pneumothorax.",
]


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_extract_reads_lines_and_prints_one_report_per_line_in_order(tmp_path):
    result = run("medreport", "extract", "-", "--json", input="\n".join(DICTATIONS) + "\n")
    assert result.exit_code == 0, result.output
    reports = [json.loads(line) for line in result.output.splitlines()]
    assert [r["patient"]["mrn"] for r in reports] == ["4242", "77"]
    assert reports[1]["critical"] is True


def test_report_writes_valid_hl7_and_fhir_and_archives(tmp_path):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    result = run(
        "medreport",
        "report",
        "--text",
        DICTATIONS[1],
        "--hl7",
        str(tmp_path / "m.hl7"),
        "--fhir",
        str(tmp_path / "b.json"),
        "--db",
        db,
        "--json",
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["hl7_valid"] and out["report_id"] == 1 and out["control_id"] == "BMR00000001V001"
    assert (tmp_path / "m.hl7").read_bytes().startswith(b"MSH|^~\\&|BOYA-MEDREPORT")
    assert json.loads((tmp_path / "b.json").read_text())["resourceType"] == "Bundle"
    history = json.loads(run("medreport", "history", "--db", db, "--json").output)
    assert history[0]["critical"] is True


def test_bad_input_exits_2_with_one_line():
    for args, text in [
        (("medreport", "extract", "-"), ""),
        (("medreport", "report", "--text", "   "), None),
        (("medreport", "eval", "/nonexistent.jsonl"), None),
    ]:
        result = CliRunner().invoke(cli, list(args), input=text)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output


def test_send_to_a_closed_port_keeps_the_report_in_the_outbox(tmp_path):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    report = run("medreport", "report", "--text", DICTATIONS[0], "--no-archive", "--json")
    (tmp_path / "r.json").write_text(report.output)
    result = CliRunner().invoke(
        cli,
        [
            "medreport",
            "send",
            str(tmp_path / "r.json"),
            "--port",
            "9",
            "--attempts",
            "1",
            "--db",
            db,
            "--json",
        ],
    )
    assert result.exit_code == 1
    assert json.loads(result.output)["status"] == "pending"
    pending = json.loads(run("medreport", "outbox", "--db", db, "--json").output)
    assert len(pending) == 1 and pending[0]["status"] == "pending"


def test_eval_scores_generated_gold(tmp_path):
    data = run("medreport", "generate", "-n", "5", "--split", "train", "--written").output
    (tmp_path / "d.jsonl").write_text(data)
    result = run("medreport", "eval", str(tmp_path / "d.jsonl"), "--json")
    scores = json.loads(result.output)
    assert scores["reports"] == 5 and 0.5 < scores["micro_f1"] <= 1.0


def test_extract_puts_an_error_object_in_place_of_a_bad_line():
    result = run("medreport", "extract", "-", input=DICTATIONS[0] + "\n\x07\x08\n" + DICTATIONS[1] + "\n")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert "error" in rows[1] and rows[0]["patient"]["mrn"] == "4242" and rows[2]["patient"]["mrn"] == "77"


def test_transcribe_takes_a_beam_size_for_whisper_only(tmp_path):
    import wave

    import numpy as np
    from boya_medreport.asr.speech import synthesize

    path = tmp_path / "d.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16_000)
        out.writeframes(
            (np.clip(synthesize("No pneumothorax period", "festival-kal"), -1, 1) * 32767)
            .astype("<i2")
            .tobytes()
        )
    greedy = run("medreport", "transcribe", str(path), "--beam-size", "1", "--json")
    assert greedy.exit_code == 0, greedy.output
    assert "pneumothorax" in json.loads(greedy.output)["text"].lower()
    refused = CliRunner().invoke(
        cli, ["medreport", "transcribe", str(path), "--asr", "ctc", "--beam-size", "2"]
    )
    assert refused.exit_code == 2 and "a beam size is a whisper backend option" in refused.output
    assert CliRunner().invoke(cli, ["medreport", "transcribe", str(path), "--beam-size", "0"]).exit_code == 2

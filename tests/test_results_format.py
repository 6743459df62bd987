import json

import pytest

from harness.errors import HarnessError
from harness.evaluate import EvalConfig, run_eval
from harness.results import load_results, write_results


@pytest.fixture
def reference_run(tmp_path):
    out = tmp_path / "ref"
    results, records = run_eval(EvalConfig(model="reference", suites=["arithmetic"], limit=8, progress=False), out_dir=out)
    return out, results, records


def test_roundtrip_has_every_public_field(reference_run):
    out, results, records = reference_run
    data = json.loads((out / "results.json").read_text())
    for key in ("harness_version", "model", "suites", "generation", "capabilities"):
        assert key in data
    assert data["capabilities"]["math"]["score"] == 1.0 and data["capabilities"]["math"]["n"] == 8
    suite = data["suites"]["arithmetic"]
    assert {"version", "hash", "n_items"} <= set(suite)
    lines = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(lines) == 8
    for line in lines:
        assert {"item_id", "suite", "capability", "variant", "output", "answer", "correct"} <= set(line)
    loaded, loaded_records = load_results(out)
    assert loaded == results and loaded_records == records
    assert sorted(p.name for p in out.iterdir()) == ["results.json", "samples.jsonl"]  # no temp files left


def test_foreign_and_corrupt_files_are_refused(tmp_path, reference_run):
    out, results, records = reference_run
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "results.json").write_text('{"harness_version": ')
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "results.json").write_text(json.dumps({"results": {"gsm8k": {}}}))
    no_samples = tmp_path / "nosamples"
    no_samples.mkdir()
    (no_samples / "results.json").write_text((out / "results.json").read_text())
    for path, message in ((corrupt, "not valid JSON"), (foreign, "not a harness results"), (no_samples, "samples.jsonl")):
        with pytest.raises(HarnessError, match=message):
            load_results(path)
    with pytest.raises(HarnessError, match="not found"):
        load_results(tmp_path / "missing")


def test_failed_write_keeps_previous_results(tmp_path, reference_run, monkeypatch):
    out, results, records = reference_run
    before = (out / "results.json").read_text()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.fsync", boom)
    with pytest.raises(OSError):
        write_results(out, results.model_copy(update={"failures": 99}), records)
    assert (out / "results.json").read_text() == before
    assert sorted(p.name for p in out.iterdir()) == ["results.json", "samples.jsonl"]

import json
from pathlib import Path

import jsonschema

from harness.evaluate import EvalConfig, run_eval
from harness.results import RESULTS_SCHEMA_VERSION, json_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "harness" / "schema" / f"results.v{RESULTS_SCHEMA_VERSION}.schema.json"


def test_published_schema_matches_the_models():
    # Regenerate with `harness schema > harness/schema/results.v<RESULTS_SCHEMA_VERSION>.schema.json` after changing a model
    # (bump the version for a breaking change; older schema files stay for older results).
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema()


def test_written_results_validate_against_the_published_schema(tmp_path):
    run_eval(EvalConfig(model="reference", suites=["arithmetic"], limit=3, progress=False), out_dir=tmp_path)
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.validate(json.loads((tmp_path / "results.json").read_text()), schema["results"])
    for line in (tmp_path / "samples.jsonl").read_text().splitlines():
        jsonschema.validate(json.loads(line), schema["sample"])
    bad = json.loads((tmp_path / "results.json").read_text())
    del bad["capabilities"]
    try:
        jsonschema.validate(bad, schema["results"])
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("schema accepted results without capabilities")

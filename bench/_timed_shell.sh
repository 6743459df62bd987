#!/bin/sh
# A $(SHELL) for make that times every recipe line: appends "<seconds>\t<line>" to $TIMED_SHELL_LOG.
# Used by bench/demo_time.py to profile `make demo` step by step.
start=$(date +%s.%N)
/bin/sh "$@"
status=$?
end=$(date +%s.%N)
shift  # drop -c
printf '%s\t%s\n' "$(echo "$end - $start" | bc)" "$(echo "$*" | tr '\n\t' '  ' | cut -c1-160)" >> "${TIMED_SHELL_LOG:-/dev/null}"
exit $status

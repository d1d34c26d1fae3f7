#!/usr/bin/env bash
# CI stage: the benchmarks that finish in a few minutes on a 2-core machine, each side by side with
# its peer in the same run, results in bench-results/:
#   backing.txt  bench-backing  resolution vs a C FIEMAP loop and filefrag     (~1.5 min)
#   xen.txt      bench-xen      hypercalls vs the theoretical minimum, ioreq  (~1 min)
#   hotadd.txt   bench-hotadd   sim (xenstore floor, CLI), real guest vs QEMU's own nvdimm hot-plug (~2 min)
#   dsm.txt      bench-dsm      service loops; guest boots vs QEMU's own nvdimm (~3 min)
# (bench-xenstore runs in xenstore.sh.) Every benchmark runs even if an earlier one failed, so
# every results file is produced; a broken peer, a wrong result or a missed count/memory target
# fails the stage at the end. A missed time target (a benchmark's exit 3) is reported as MISS in its
# results and in the summary; it fails the stage only with BENCH_ENFORCE_TIME=1, since wall-clock
# ratios on a shared 2-core machine under other tenants' load are not a pass/fail signal.
# Wall times: bench-results/benchmarks-stage.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bench-results
summary=bench-results/benchmarks-stage.txt
stage_start=$(date +%s)
: > "$summary"
failed=()
bench() {
  local name="$1" t0 rc=0
  shift
  t0=$(date +%s)
  echo "== $name"
  "$@" || rc=$?
  local verdict="FAILED (exit $rc)"
  ((rc == 0)) && verdict=ok
  ((rc == 3)) && verdict="time target MISSED (see its results)"
  local line="$name: $verdict in $(( $(date +%s) - t0 )) s"
  echo "== $line"
  echo "$line" >> "$summary"
  if ((rc == 3)) && [ "${BENCH_ENFORCE_TIME:-0}" != 1 ]; then return 0; fi
  ((rc == 0)) || failed+=("$name")
}
bench bench-backing scripts/bench-backing bench-results/backing.txt
bench bench-xen scripts/bench-xen bench-results/xen.txt
bench bench-hotadd scripts/bench-hotadd bench-results/hotadd.txt
bench bench-dsm scripts/bench-dsm bench-results/dsm.txt
echo "stage: $(( $(date +%s) - stage_start )) s wall, $(nproc) cores, load average at end $(cut -d' ' -f1-3 /proc/loadavg)" >> "$summary"
cat "$summary"
if ((${#failed[@]})); then
  echo "benchmarks stage: FAILED: ${failed[*]} (a missed target or a broken peer; see bench-results/)" >&2
  exit 1
fi

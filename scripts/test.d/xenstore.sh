#!/usr/bin/env bash
# CI stage: the xenstore benchmark (ours vs Debian's libxenstore tools vs pyxs, same embedded
# xenstored, one run). Fails if any client fails; results land in bench-results/xenstore.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/bench-xenstore bench-results/xenstore.txt

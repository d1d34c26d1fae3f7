#!/usr/bin/env bash
# The Xen lab stage: real Xen 4.17 + dom0 under QEMU TCG (scripts/xen-lab), the final judge of
# every Xen path. Builds the lab image on first use (cached under .cache/xen-lab).
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet test tests/Integration.Tests -c Release --no-build --nologo -v q --logger "console;verbosity=normal" --filter "Category=XenLab"

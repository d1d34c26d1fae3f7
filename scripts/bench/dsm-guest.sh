#!/usr/bin/env bash
# Guest-side DSM benchmark (called by scripts/bench-dsm; results appended to $1):
#  - boot-to-/dev/pmem: guest uptime when the init script starts (nd bus settled, /dev/pmem0
#    present) with our tables + pc-dimm + xen-vnvdimm serving the DSM, vs QEMU's own
#    -device nvdimm of the same size and label size, in the same run, 3 boots each;
#  - `ndctl read-labels` of the whole 128 KiB label area through our DSM, in the guest.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-bench-results/dsm.txt}"
mkdir -p "$(dirname "$out")"
dotnet build devicemodel -c Release --nologo -v q >/dev/null
xv=(dotnet devicemodel/bin/Release/net10.0/xen-vnvdimm.dll)
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
truncate -s 256M "$w/ours.img" "$w/qemu.img"
echo "vnvdimms = [ 'backend=$w/ours.img, label_size=128K' ]" > "$w/vm.cfg"
cat > "$w/g.sh" <<'G'
echo "BOOT $(cut -d' ' -f1 /proc/uptime)"
ndctl disable-region all >/dev/null 2>&1; ndctl init-labels -f all >/dev/null 2>&1; ndctl enable-region all >/dev/null 2>&1
t0=$(cut -d' ' -f1 /proc/uptime)
for i in 1 2 3 4 5; do ndctl read-labels nmem0 -o /tmp/l.bin >/dev/null 2>&1; done
t1=$(cut -d' ' -f1 /proc/uptime)
echo "READLABELS $(echo "$t0 $t1" | awk '{printf "%.3f", ($2-$1)/5}') $(stat -c %s /tmp/l.bin)"
G
ours=() qemu=() rl=()
for i in 1 2 3; do
  o=$("${xv[@]}" run --platform qemu --config "$w/vm.cfg" --guest-script "$w/g.sh" --run-dir "$w/run" 2>/dev/null)
  ours+=("$(grep -o '^BOOT [0-9.]*' <<<"$o" | cut -d' ' -f2)")
  rl+=("$(grep -o '^READLABELS [0-9.]*' <<<"$o" | cut -d' ' -f2)")
  rm -f "$w/ours.img.label"
  q=$(scripts/guest/run --qemu-nvdimm "$w/qemu.img:128K" --script "$w/g.sh" 2>/dev/null)
  qemu+=("$(grep -o '^BOOT [0-9.]*' <<<"$q" | cut -d' ' -f2)")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
mo=$(median "${ours[@]}"); mq=$(median "${qemu[@]}"); mr=$(median "${rl[@]}")
{
  echo "== guest side ($(date -u +%FT%TZ), QEMU TCG, 256 MiB vNVDIMM, 128 KiB labels, median of 3)"
  echo "boot-to-/dev/pmem (guest uptime at script start): ours ${mo}s [${ours[*]}], QEMU -device nvdimm ${mq}s [${qemu[*]}], ratio $(awk -v a="$mo" -v b="$mq" 'BEGIN{printf "%.3f", a/b}') (target <= 1.10)"
  echo "ndctl read-labels of the 128 KiB label area through xen-vnvdimm's DSM: ${mr}s per read [${rl[*]}]"
} | tee -a "$out"

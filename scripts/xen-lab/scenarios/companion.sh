#!/bin/bash
# The companion on real Xen (runs in dom0): `xen-vnvdimm run --platform xen` itself resolves the
# backings, grants and maps their frames with its own hypercalls (no libxl iomem=), populates and
# foreign-maps the DSM mailbox, serves the guest's DSM calls as an ioreq server, publishes its
# state in the real oxenstored, hot-adds a vNVDIMM on a xenstore command and exits when the
# domain is released. Started the administrator's way, with the project's package installed by dpkg:
# `xen-vnvdimm tables --config NAME.cfg` prints the config lines, plain `xl create` runs the
# device-model wrapper, which starts the companion before QEMU.
#   0. term: kill -9 of a paused guest's companion and a re-attach; then, while the guest runs
#      and talks to dom0 through its pmem, SIGTERM keeps its pmem mapped and a new run
#      re-attaches (no second mapping) and serves its DSM again.
#   1. raw: a whole raw namespace (/dev/pmem0 of the label-less host region) as the backing.
#   2. cmp, first boot: three DAX files on dom0's fsdax namespace (--map=mem: a PV dom0 has no
#      altmap; see DESIGN.md), one deliberately fragmented, one with labels. The guest checks
#      sizes, addresses and every byte (md5) of what dom0 wrote, writes tokens, then
#      init-labels + create-namespace through our DSM.
#   3. cmp, second boot: the namespace is still there; a vNVDIMM hot-added with
#      `xen-vnvdimm hot-add` appears in the running guest.
#   scripts/xen-lab/run --scenario scripts/xen-lab/scenarios/companion.sh --nvdimm-size 512M
. "$LAB_LIB"
: "${LAB_TOKEN:?no LAB_TOKEN (companion.host prepare did not run)}"
# the companion's log level (its default is Warning): what it mapped, with which interface
export XEN_VNVDIMM_LOG="${XEN_VNVDIMM_LOG:-Information}"
# the wrapper's wait for state=running; libxl gives the whole device model 60 s
export XEN_VNVDIMM_START_TIMEOUT="${XEN_VNVDIMM_START_TIMEOUT:-55}"
lab_check "xen-vnvdimm is on PATH" command -v xen-vnvdimm
lab_check "the device-model wrapper is installed" test -x /usr/lib/xen-vnvdimm/qemu-dm
lab_check "dom0: /dev/pmem0 exists" test -b /dev/pmem0

# "slot gpa size" per device of a layout.json (written by xen-vnvdimm tables)
layout_devices() {
  awk '/"slot":/ { gsub(/[^0-9]/, "", $2); s = $2 }
       /"gpa":/ { gsub(/[",]/, "", $2); g = $2 }
       /"size":/ { gsub(/[^0-9]/, "", $2); print s, g, $2 }' "$1"
}
# the companion of a guest named $1 (its pid from xenstore, kept when the guest was created)
companion_pid() { cat "$LAB_OUT/companion-$1.pid" 2>/dev/null; }
companion_log() { echo "/var/log/xen/xen-vnvdimm-$1.log"; }
companion_gone() { # waits until the companion of guest $1 has exited
  local pid t0; pid="$(companion_pid "$1")"; t0=$(lab_secs)
  [ -n "$pid" ] || return 1
  while kill -0 "$pid" 2>/dev/null; do (( $(lab_secs) - t0 > $2 )) && return 1; sleep 1; done
}
xs_base() { echo "/local/domain/0/device-model/$1/vnvdimm"; }
# finds a file's bytes at OFFSET (grep of the 4 KiB block there)
block_has() { dd if="$1" bs=4096 skip=$(($2 / 4096)) count=1 2>/dev/null | grep -aq "$3"; }
create_guest() { # NAME CFG: tables --config (appends the lines it prints), then plain xl create; timed
  local t0 out="$LAB_OUT/create-$1.out"; t0=$(lab_now)
  : >"$(companion_log "$1")"
  if xen-vnvdimm tables --config "$2" >"$out" 2>&1 &&
     grep -E '^(device_model_override|acpi_firmware) = ' "$out" >>"$2" &&
     xl create "$2" >>"$out" 2>&1; then
    cat "$out"
    lab_time "companion_create_$1" "$(lab_elapsed "$t0")"
    xenstore-read "$(xs_base "$(xl domid "$1")")/pid" >"$LAB_OUT/companion-$1.pid"
    return 0
  fi
  cat "$out"; cat "$(companion_log "$1")" /var/log/xen/qemu-dm-"$1".log 2>/dev/null
  return 1
}
lab_progress_hook() { tail -n 4 "$(companion_log "$1")" 2>/dev/null | sed 's/^/[companion] /'; }
# no teardown failure: once the domain is released the companion must not fight Xen over it
clean_log() { ! grep -E ' (fail|crit): ' "$(companion_log "$1")"; }
show_companion_log() { echo "---- companion log ($1) ----"; sed 's/^/[companion] /' "$(companion_log "$1")" 2>/dev/null; }

# ---- 0. restart and stop while the guest lives ----------------------------------------------------
# kill -9 the companion of a paused guest; a new `run` re-attaches (takes the frames over, replaces
# the dead companion's ioreq server: no second memory_mapping). Then the guest runs and talks to
# dom0 through its pmem (a command block dom0 writes, an answer block the guest writes): SIGTERM
# must leave the guest's pmem mapped (issue 13's rule: frames leave a live guest only when it is
# gone), the guest still reads dom0's data and dom0 sees its writes, and a third `run` re-attaches
# with no second memory_mapping and serves the guest's DSM calls again (an nfit rebind in the
# guest evaluates _DSM for the DIMM: a vCPU whose doorbell nobody serves never gets back).
memmaps() { xl dmesg | grep -c "memory_map:$1: dom$2 " || true; }
# 4 KiB blocks of /dev/pmem0: the data dom0 writes, the command, the guest's answer
T_DATA=100 T_CMD=200 T_ACK=201
blk_put() { printf '%s\n' "$2" | dd of=/dev/pmem0 bs=4096 seek="$1" conv=sync,notrunc oflag=direct status=none; }
blk_get() { dd if=/dev/pmem0 bs=4096 skip="$1" count=1 iflag=direct status=none | tr -d '\0' | head -n 1; }
term_ack() { [ "$(blk_get $T_ACK)" = "$1" ]; }
cat >term-guest.sh <<G
# the guest end of section 0: answers dom0's commands through its own pmem (no page cache)
get() { blockdev --flushbufs /dev/pmem0; dd if=/dev/pmem0 bs=4096 skip=\$1 count=1 2>/dev/null | tr -d '\0' | head -n 1; }
put() { printf '%s\n' "\$2" | dd of=/dev/pmem0 bs=4096 seek=\$1 conv=sync,notrunc,fsync 2>/dev/null; blockdev --flushbufs /dev/pmem0; }
test -b /dev/pmem0 || { echo "LAB-GUEST-TERM no /dev/pmem0"; exit 1; }
put $T_ACK READY
done=""
while :; do
  c=\$(get $T_CMD)
  case "\$c" in
    ""|"\$done") sleep 1; continue ;;
    STOP) echo "LAB-GUEST-TERM stop"; exit 0 ;;
    REBIND-*) # re-probes the NVDIMM bus: _FIT and _DSM through the companion
      echo ACPI0012:00 >/sys/bus/acpi/drivers/nfit/unbind; echo ACPI0012:00 >/sys/bus/acpi/drivers/nfit/bind
      for w in /sys/bus/nd/devices/ndbus*/wait_probe; do cat \$w >/dev/null; done
      i=0; until [ -b /dev/pmem0 ] || [ \$i -ge 60 ]; do sleep 1; i=\$((i + 1)); done ;;
  esac
  d=\$(get $T_DATA)
  echo "LAB-GUEST-TERM \$c read=\$d"
  put \$((300 + \${c##*-})) "GUEST-\$c-$LAB_TOKEN"
  put $T_ACK "ACK-\$c \$d"
  done="\$c"
done
G
lab_guest_initrd term-guest.sh /tmp/term.initrd
for b in $T_DATA $T_CMD $T_ACK 301 302 303; do blk_put $b ""; done
blk_put $T_DATA "TERM-DATA-1-$LAB_TOKEN"
cat >term.cfg <<EOF
vnvdimms = [ 'backend=/dev/pmem0, label_size=0' ]
EOF
{ lab_hvm_cfg term /tmp/term.initrd; cat term.cfg; } >term-xl.cfg
xen-vnvdimm tables --config term-xl.cfg --out term-tables --platform xen >/dev/null
if xl create -p term-xl.cfg "acpi_firmware=\"$PWD/term-tables/acpi_firmware.bin\"" >/dev/null 2>&1; then
  tdom=$(xl domid term)
  lab_follow term
  setsid xen-vnvdimm run --platform xen --domid "$tdom" --config term-xl.cfg >term-1.log 2>&1 </dev/null &
  tpid=$!
  state_is() { [ "$(xenstore-read "$(xs_base "$tdom")/state" 2>/dev/null)" = "$1" ]; }
  companion_state() { kill -0 "$2" 2>/dev/null || return 0; state_is "$1"; } # ends when it died
  wait_state() { lab_wait_until term 600 companion_state "$1" "$2" && state_is "$1"; }
  lab_check "restart: first companion running" wait_state running "$tpid"
  adds=$(memmaps add "$tdom")
  kill -9 "$tpid"; wait "$tpid" 2>/dev/null
  # the dead companion's state stays "running": mark it so the wait below sees the new one's
  xenstore-write "$(xs_base "$tdom")/state" crashed
  setsid xen-vnvdimm run --platform xen --domid "$tdom" --config term-xl.cfg >term-2.log 2>&1 </dev/null &
  tpid=$!
  lab_check "restart: the second companion re-attached and runs" wait_state running "$tpid"
  lab_check "restart: it says it re-attached" grep -q "re-attaching to what it mapped" term-2.log
  lab_check "restart: no second memory_mapping ($adds adds before, $(memmaps add "$tdom") after)" test "$(memmaps add "$tdom")" = "$adds"
  lab_check "restart: the dead companion's ioreq server was destroyed" grep -q "destroyed the dead companion's ioreq server" term-2.log
  xl unpause term
  t0=$(lab_now)
  lab_check "restart: the guest is up and answers through its pmem" lab_wait_until term 900 term_ack READY
  lab_time term_guest_ready "$(lab_elapsed "$t0")"
  blk_put $T_CMD GO-1
  lab_check "restart: the guest read dom0's data (before SIGTERM)" lab_wait_until term 300 term_ack "ACK-GO-1 TERM-DATA-1-$LAB_TOKEN"
  removes=$(memmaps remove "$tdom")
  kill -TERM "$tpid"
  lab_check "sigterm: the companion exits 0" wait "$tpid"
  lab_check "sigterm: it published state=stopped" state_is stopped
  lab_check "sigterm: the frames stay in the guest ($removes memory_map:remove before, $(memmaps remove "$tdom") after)" test "$(memmaps remove "$tdom")" = "$removes"
  lab_check "sigterm: the companion logged no failure" sh -c "! grep -E ' (fail|crit): ' term-2.log"
  # the guest, with no companion: still its pmem (dom0's new data; its write lands in /dev/pmem0)
  blk_put $T_DATA "TERM-DATA-2-$LAB_TOKEN"; blk_put $T_CMD GO-2
  lab_check "sigterm: the guest still reads dom0's data" lab_wait_until term 300 term_ack "ACK-GO-2 TERM-DATA-2-$LAB_TOKEN"
  lab_check "sigterm: dom0 sees the guest's write" test "$(blk_get 302)" = "GUEST-GO-2-$LAB_TOKEN"
  adds=$(memmaps add "$tdom")
  setsid xen-vnvdimm run --platform xen --domid "$tdom" --config term-xl.cfg >term-3.log 2>&1 </dev/null &
  tpid=$!
  lab_check "sigterm: a new run re-attached and runs" wait_state running "$tpid"
  lab_check "sigterm: the new run says it re-attached" grep -q "stopped and left the guest its pmem: re-attaching to what it mapped" term-3.log
  lab_check "sigterm: no second memory_mapping ($adds adds before, $(memmaps add "$tdom") after)" test "$(memmaps add "$tdom")" = "$adds"
  blk_put $T_DATA "TERM-DATA-3-$LAB_TOKEN"; blk_put $T_CMD REBIND-3
  t0=$(lab_now)
  lab_check "sigterm: the re-attached companion serves the guest's DSM (nfit rebind) and the data" \
    lab_wait_until term 600 term_ack "ACK-REBIND-3 TERM-DATA-3-$LAB_TOKEN"
  lab_time term_rebind_after_reattach "$(lab_elapsed "$t0")"
  lab_check "sigterm: dom0 sees the guest's write after the re-attach" test "$(blk_get 303)" = "GUEST-REBIND-3-$LAB_TOKEN"
  blk_put $T_CMD STOP
  lab_check "restart: the guest powered off" lab_wait_gone term 300
  pid_gone() { local t0; t0=$(lab_secs); while kill -0 "$1" 2>/dev/null; do (( $(lab_secs) - t0 > $2 )) && return 1; sleep 1; done; }
  lab_check "restart: the last companion exited when the domain went" pid_gone "$tpid" 120
  wait "$tpid" 2>/dev/null
  lab_check "restart: the companion's xenstore nodes are gone" sh -c "! xenstore-exists '$(xs_base "$tdom")/devices'"
  sed 's/^/[companion-1] /' term-1.log; sed 's/^/[companion-2] /' term-2.log; sed 's/^/[companion-3] /' term-3.log
  xl destroy term 2>/dev/null
  lab_unfollow
  mv "$LAB_OUT/guest-term.console" "$LAB_OUT/guest-term0.console" 2>/dev/null
else
  lab_check "restart: xl create -p term" false
fi

# ---- 1. a whole raw namespace --------------------------------------------------------------------
res="$(cat /sys/bus/nd/devices/region*/resource 2>/dev/null | head -n 1)"
echo "dom0: host region at $res"
printf 'XENLAB-RAW-HEAD-%s\n' "$LAB_TOKEN" | dd of=/dev/pmem0 bs=4096 conv=sync,notrunc status=none
printf 'XENLAB-RAW-MID-%s\n' "$LAB_TOKEN" | dd of=/dev/pmem0 bs=4096 seek=$((300 << 8)) conv=sync,notrunc status=none
sync
cat >raw.cfg.in <<EOF
vnvdimms = [ 'backend=/dev/pmem0, label_size=0' ]
EOF
xen-vnvdimm tables --config raw.cfg.in --out raw-tables --platform xen >/dev/null
read -r _ raw_gpa raw_size <<<"$(layout_devices raw-tables/layout.json)"
echo "raw: planned gpa $raw_gpa size $raw_size"
cat >raw-guest.sh <<G
set -u
b=\$(ls -d /sys/block/pmem* | head -n 1); d=/dev/\${b##*/}
r=\$(cat \$(readlink -f \$b/device)/../resource); s=\$(( \$(cat \$b/size) * 512 ))
echo "LAB-GUEST-RAW dev=\$d gpa=\$r size=\$s"
dd if=\$d bs=4096 count=1 2>/dev/null | grep -ao 'XENLAB-RAW-HEAD-[0-9a-f]*' | sed 's/^/LAB-GUEST-READ=/'
dd if=\$d bs=4096 skip=$((300 << 8)) count=1 2>/dev/null | grep -ao 'XENLAB-RAW-MID-[0-9a-f]*' | sed 's/^/LAB-GUEST-READ=/'
printf 'XENLAB-RAW-GUEST-%s\n' "$LAB_TOKEN" | dd of=\$d bs=4096 seek=257 conv=sync,notrunc 2>/dev/null
sync
test "\$r" = "$raw_gpa" && test "\$s" = "$raw_size"
G
lab_guest_initrd raw-guest.sh /tmp/raw.initrd
{ lab_hvm_cfg raw /tmp/raw.initrd; cat raw.cfg.in; } >raw.cfg
if create_guest raw raw.cfg; then
  lab_follow raw
  domid=$(xl domid raw)
  lab_check "raw: companion published state=running" test "$(xenstore-read "$(xs_base "$domid")/state")" = running
  lab_check "raw: guest ran its script" lab_wait_console raw 'GUEST-EXIT=' 1200
  lab_check "raw: guest powered off" lab_wait_gone raw 300
  lab_check "raw: companion exited when the domain went" companion_gone raw 120
  c="$(tr -d '\r' <"$LAB_OUT/guest-raw.console")"
  lab_check "raw: guest sees the namespace at $raw_gpa with $raw_size bytes" \
    grep -q "LAB-GUEST-RAW dev=/dev/pmem[0-9]* gpa=$raw_gpa size=$raw_size" <<<"$c"
  lab_check "raw: guest read dom0's pattern at 0" grep -q "LAB-GUEST-READ=XENLAB-RAW-HEAD-$LAB_TOKEN" <<<"$c"
  lab_check "raw: guest read dom0's pattern at 300 MiB" grep -q "LAB-GUEST-READ=XENLAB-RAW-MID-$LAB_TOKEN" <<<"$c"
  lab_check "raw: guest script exited 0" test "$(lab_guest_exit raw)" = 0
  lab_check "raw: the guest's write is at 257 * 4 KiB of /dev/pmem0" block_has /dev/pmem0 $((257 * 4096)) "XENLAB-RAW-GUEST-$LAB_TOKEN"
  lab_check "raw: the companion's xenstore nodes are gone" sh -c "! xenstore-exists '$(xs_base "$domid")/devices'"
  lab_check "raw: the companion logged no failure" clean_log raw
else
  lab_check "raw: xl create" false
fi
show_companion_log raw

# ---- 2. DAX files on dom0's fsdax namespace ------------------------------------------------------
t0=$(lab_now)
ndctl create-namespace -f -e namespace0.0 -m fsdax --map=mem >ns.json 2>&1; cat ns.json
lab_check "dom0: fsdax namespace (--map=mem)" test -b /dev/pmem0
mkfs.ext4 -q -F -b 4096 /dev/pmem0
mkdir -p /mnt/pmem
lab_check "dom0: ext4 mounted with -o dax" mount -t ext4 -o dax /dev/pmem0 /mnt/pmem
lab_time dom0_fsdax_setup "$(lab_elapsed "$t0")"
P=/mnt/pmem
# a: contiguous, random content. b: written contiguous (16 MiB), then 16 collapse-ranges of
# 256 KiB take every other 256 KiB out of its first 8 MiB without moving a block: 12 MiB in 17
# extents, 16 of them 256 KiB and not 2 MiB aligned (ext4's allocator cannot be talked into
# fragmenting a file reliably; collapse-range is exact)
dd if=/dev/urandom of=$P/a.img bs=1M count=64 conv=fsync status=none
dd if=/dev/urandom of=$P/b.img bs=1M count=16 conv=fsync status=none
for k in $(seq 1 16); do fallocate -c -o $((k << 18)) -l $((1 << 18)) $P/b.img; done
dd if=/dev/urandom of=$P/c.img bs=1M count=32 conv=fsync status=none
dd if=/dev/urandom of=$P/d.img bs=1M count=16 conv=fsync status=none
sync
for f in a b c d; do echo "dom0: $f.img: $(filefrag $P/$f.img)"; done
b_extents=$(filefrag $P/b.img | sed -n 's/.*: \([0-9]*\) extents\{0,1\} found/\1/p')
lab_check "dom0: b.img is fragmented ($b_extents extents)" test "${b_extents:-0}" -ge 17
for f in a b d; do md5sum <$P/$f.img | cut -d' ' -f1 >$f.md5; done
cat >cmp.cfg.in <<EOF
vnvdimms = [ 'backend=$P/a.img, label_size=0',
             'backend=$P/b.img, label_size=0',
             'backend=$P/c.img, label_size=128K' ]
vnvdimm_slots = 4
EOF
xen-vnvdimm tables --config cmp.cfg.in --out cmp-tables --platform xen >/dev/null
layout_devices cmp-tables/layout.json >cmp-layout.txt; cat cmp-layout.txt
read -r _ a_gpa a_size <<<"$(sed -n 1p cmp-layout.txt)"
read -r _ b_gpa b_size <<<"$(sed -n 2p cmp-layout.txt)"
read -r _ c_gpa c_size <<<"$(sed -n 3p cmp-layout.txt)"
# c's labels: a new guest's go under the labels root, keyed by serial (the only non-null label of the layout)
c_label="$(grep -o '"label": *"[^"]*"' cmp-tables/layout.json | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/')"
echo "cmp: c's label file: $c_label"
rm -f "$c_label" "$c_label.journal" "$c_label.lock" "$c_label.new" # an earlier lab run's

# guest helpers: the /dev/pmemX and region of the region at GPA $1
cat >guest-lib.sh <<'G'
region_at() { for r in /sys/bus/nd/devices/region*; do [ "$(cat $r/resource)" = "$1" ] && { echo ${r##*/}; return; }; done; }
pmem_at() { for b in /sys/block/pmem*; do [ "$(cat $(readlink -f $b/device)/../resource 2>/dev/null)" = "$1" ] && { echo ${b##*/}; return; }; done; }
dev_report() { # NAME GPA: size, md5 of the whole device
  p=$(pmem_at $2)
  [ -n "$p" ] || { echo "LAB-GUEST-DEV $1 missing at $2"; return 1; }
  echo "LAB-GUEST-DEV $1 gpa=$2 size=$(( $(cat /sys/block/$p/size) * 512 )) md5=$(md5sum </dev/$p | cut -d' ' -f1)"
}
G
cat guest-lib.sh >cmp1-guest.sh
cat >>cmp1-guest.sh <<G
set -u
echo "LAB-GUEST-PMEM uptime=\$(cut -d' ' -f1 /proc/uptime)"
ndctl list -R -D -N
rc=0
dev_report a $a_gpa || rc=1
dev_report b $b_gpa || rc=1
printf 'XENLAB-A-GUEST-%s\n' "$LAB_TOKEN" | dd of=/dev/\$(pmem_at $a_gpa) bs=4096 seek=$(( (2 << 8) + 2 )) conv=sync,notrunc 2>/dev/null
printf 'XENLAB-B-GUEST-%s\n' "$LAB_TOKEN" | dd of=/dev/\$(pmem_at $b_gpa) bs=4096 seek=$(( (5 << 8) + 3 )) conv=sync,notrunc 2>/dev/null
sync
# labels through the DSM the companion serves
r=\$(region_at $c_gpa); nmem=\$(cut -d, -f1 /sys/bus/nd/devices/\$r/mapping0)
echo "LAB-GUEST-LABEL-REGION \$r \$nmem"
ndctl disable-region \$r && ndctl init-labels -f \$nmem && ndctl enable-region \$r && echo "LAB-GUEST-INIT-LABELS ok" || rc=1
ndctl create-namespace -r \$r -m fsdax -s 16M >/tmp/ns.json && echo "LAB-GUEST-NS \$(grep -o '"uuid":"[^"]*"' /tmp/ns.json | head -n 1)" || rc=1
cat /tmp/ns.json
ndctl read-labels \$nmem -o /tmp/labels.bin && echo "LAB-GUEST-LABELS md5=\$(md5sum </tmp/labels.bin | cut -d' ' -f1)"
exit \$rc
G
lab_guest_initrd cmp1-guest.sh /tmp/cmp1.initrd
{ lab_hvm_cfg cmp /tmp/cmp1.initrd; cat cmp.cfg.in; } >cmp1.cfg
t0=$(lab_now)
if create_guest cmp cmp1.cfg; then
  lab_follow cmp
  domid=$(xl domid cmp)
  base="$(xs_base "$domid")"
  xenstore-ls -f "$base" 2>&1 | sed 's/^/xenstore: /'
  lab_check "cmp: state=running in oxenstored" test "$(xenstore-read "$base/state")" = running
  lab_check "cmp: pid in xenstore is the companion" test "$(xenstore-read "$base/pid")" = "$(companion_pid cmp)"
  lab_check "cmp: devices/1/gpa in xenstore is the planned $b_gpa" test "$(xenstore-read "$base/devices/1/gpa")" = "$b_gpa"
  pinned() { lsattr -d "$@" | awk '$1 !~ /i/ { bad = 1 } END { exit bad }'; }
  unpinned() { lsattr -d "$@" | awk '$1 ~ /i/ { bad = 1 } END { exit bad }'; }
  lsattr -d $P/a.img $P/b.img $P/c.img
  lab_check "cmp: the mapped files are pinned immutable while the guest runs" pinned $P/a.img $P/b.img $P/c.img
  lab_check "cmp: truncate of a mapped file fails" sh -c "! truncate -s 1M $P/a.img 2>/dev/null && test \$(stat -c %s $P/a.img) -gt 1048576"
  lab_check "cmp: its claims are on disk (slots 0-2)" test -e /run/xen-vnvdimm/claims/d$domid.s0.claim -a -e /run/xen-vnvdimm/claims/d$domid.s1.claim -a -e /run/xen-vnvdimm/claims/d$domid.s2.claim
  lab_check "cmp: c's label file is under /var/lib/xen-vnvdimm/labels ($c_label)" test "${c_label#/var/lib/xen-vnvdimm/labels/}" != "$c_label"
  lab_check "cmp: guest sees its vNVDIMMs" lab_wait_console cmp 'LAB-GUEST-PMEM|GUEST-EXIT=' 1200
  lab_time xl_create_to_guest_pmem_with_companion "$(lab_elapsed "$t0")"
  lab_check "cmp: guest ran its script" lab_wait_console cmp 'GUEST-EXIT=' 1200
  lab_check "cmp: guest powered off" lab_wait_gone cmp 300
  lab_check "cmp: companion exited when the domain went" companion_gone cmp 120
  lab_check "cmp: the pins went with the domain" unpinned $P/a.img $P/b.img $P/c.img
  lab_check "cmp: the claims went with the domain" sh -c "! ls /run/xen-vnvdimm/claims/d$domid.* 2>/dev/null"
  c="$(tr -d '\r' <"$LAB_OUT/guest-cmp.console")"
  lab_check "cmp: guest sees a (contiguous) at $a_gpa, $a_size bytes, dom0's bytes" \
    grep -q "LAB-GUEST-DEV a gpa=$a_gpa size=$a_size md5=$(cat a.md5)" <<<"$c"
  lab_check "cmp: guest sees b (fragmented) at $b_gpa, $b_size bytes, dom0's bytes" \
    grep -q "LAB-GUEST-DEV b gpa=$b_gpa size=$b_size md5=$(cat b.md5)" <<<"$c"
  lab_check "cmp: the guest's write to a is at 2 MiB + 8 KiB of a.img" block_has $P/a.img $(( (2 << 20) + 8192 )) "XENLAB-A-GUEST-$LAB_TOKEN"
  lab_check "cmp: the guest's write to b is at 5 MiB + 12 KiB of b.img" block_has $P/b.img $(( (5 << 20) + 12288 )) "XENLAB-B-GUEST-$LAB_TOKEN"
  lab_check "cmp: ndctl init-labels through our DSM" grep -q "LAB-GUEST-INIT-LABELS ok" <<<"$c"
  ns_uuid="$(sed -n 's/.*LAB-GUEST-NS "uuid":"\([^"]*\)".*/\1/p' <<<"$c" | head -n 1)"
  lab_check "cmp: ndctl create-namespace through our DSM (uuid ${ns_uuid:-none})" test -n "$ns_uuid"
  guest_md5="$(sed -n 's/.*LAB-GUEST-LABELS md5=\([0-9a-f]*\).*/\1/p' <<<"$c" | head -n 1)"
  lab_check "cmp: ndctl read-labels equals the label file on dom0" test "$guest_md5" = "$(md5sum <"$c_label" | cut -d' ' -f1)"
  lab_check "cmp: guest script exited 0" test "$(lab_guest_exit cmp)" = 0
  lab_check "cmp: the companion logged no failure" clean_log cmp
  mv "$LAB_OUT/guest-cmp.console" "$LAB_OUT/guest-cmp1.console"
else
  lab_check "cmp: xl create (first boot)" false
fi
show_companion_log cmp
cp "$(companion_log cmp)" "$LAB_OUT/companion-cmp1.log" 2>/dev/null

# ---- 3. second boot: the namespace survived; hot-add -------------------------------------------
cat guest-lib.sh >cmp2-guest.sh
cat >>cmp2-guest.sh <<G
set -u
rc=0
r=\$(region_at $c_gpa)
ndctl list -N -r \$r | grep -o '"uuid":"[^"]*"' | sed 's/^/LAB-GUEST-NS2 /'
nregions=\$(ls -d /sys/bus/nd/devices/region* | wc -l)
echo "LAB-GUEST-WAIT-HOTADD regions=\$nregions"
via=event; i=0
while [ \$(ls -d /sys/bus/nd/devices/region* | wc -l) -le \$nregions ]; do
  i=\$((i + 1)); sleep 1
  # the GED event should make the nfit driver re-read _FIT; re-binding it is the fallback
  if [ \$i -ge 240 ] && [ \$via = event ]; then via=rebind
    echo ACPI0012:00 >/sys/bus/acpi/drivers/nfit/unbind; echo ACPI0012:00 >/sys/bus/acpi/drivers/nfit/bind; fi
  [ \$i -ge 400 ] && { echo "LAB-GUEST-HOTADD none"; exit 1; }
done
for w in /sys/bus/nd/devices/ndbus*/wait_probe; do cat \$w >/dev/null; done
sleep 2
new=""
for r in /sys/bus/nd/devices/region*; do case " $a_gpa $b_gpa $c_gpa " in *" \$(cat \$r/resource) "*) ;; *) new=\$(cat \$r/resource) ;; esac; done
echo "LAB-GUEST-HOTADDED via=\$via after=\${i}s gpa=\$new"
grep -c ACPI:Ged /proc/interrupts >/dev/null && grep ACPI:Ged /proc/interrupts
dev_report d \$new || rc=1
exit \$rc
G
lab_guest_initrd cmp2-guest.sh /tmp/cmp2.initrd
{ lab_hvm_cfg cmp /tmp/cmp2.initrd; cat cmp.cfg.in; } >cmp2.cfg
if create_guest cmp cmp2.cfg; then
  lab_follow cmp
  domid=$(xl domid cmp)
  base="$(xs_base "$domid")"
  if lab_check "cmp2: guest waits for the hot-add" lab_wait_console cmp 'LAB-GUEST-WAIT-HOTADD|GUEST-EXIT=' 1200; then
    t0=$(lab_now)
    # in the background: the wait ends as soon as the guest is gone; the command's own time (the
    # whole `hot-add` process: start, command node written, result node read) is taken inside,
    # not at the granularity of the wait's polling
    ( h0=$(lab_now)
      xen-vnvdimm hot-add --domid "$domid" --request-id lab1 --timeout 600 "backend=$P/d.img, label_size=0"; r=$?
      lab_elapsed "$h0" >hotadd.secs; exit $r ) >hotadd.out 2>&1 &
    hp=$!
    lab_wait_until cmp 620 sh -c "! kill -0 $hp 2>/dev/null" || kill "$hp" 2>/dev/null
    wait "$hp"; hrc=$?
    lab_time hotadd_command_to_result "$(cat hotadd.secs 2>/dev/null || lab_elapsed "$t0")"
    cat hotadd.out
    lab_check "cmp2: hot-add answered ok" test "$hrc" = 0
    lab_check "cmp2: result/lab1 is ok slot=3" test "$(xenstore-read "$base/result/lab1")" = "ok slot=3"
    d_gpa="$(xenstore-read "$base/devices/3/gpa")"; d_size="$(xenstore-read "$base/devices/3/size")"
    lab_check "cmp2: guest sees the hot-added vNVDIMM" lab_wait_console cmp 'LAB-GUEST-HOTADDED|GUEST-EXIT=' 600
    lab_time hotadd_command_to_guest_device "$(lab_elapsed "$t0")"
  fi
  lab_check "cmp2: guest powered off" lab_wait_gone cmp 300
  lab_check "cmp2: companion exited when the domain went" companion_gone cmp 120
  c="$(tr -d '\r' <"$LAB_OUT/guest-cmp.console")"
  lab_check "cmp2: the namespace (uuid ${ns_uuid:-none}) survived the reboot" grep -q "LAB-GUEST-NS2 \"uuid\":\"$ns_uuid\"" <<<"$c"
  grep -o 'LAB-GUEST-HOTADDED via=[a-z]*' <<<"$c" | sed 's/^/lab: hot-add event path: /'
  lab_check "cmp2: hot-added d at ${d_gpa:-?}, ${d_size:-?} bytes, dom0's bytes" \
    grep -q "LAB-GUEST-DEV d gpa=${d_gpa:-none} size=${d_size:-none} md5=$(cat d.md5)" <<<"$c"
  lab_check "cmp2: guest script exited 0" test "$(lab_guest_exit cmp)" = 0
  lab_check "cmp2: the companion logged no failure" clean_log cmp
  mv "$LAB_OUT/guest-cmp.console" "$LAB_OUT/guest-cmp2.console"
else
  lab_check "cmp: xl create (second boot)" false
fi
show_companion_log cmp
cp "$(companion_log cmp)" "$LAB_OUT/companion-cmp2.log" 2>/dev/null
umount /mnt/pmem
exit "$(lab_result)"

#!/bin/bash
# Issue 13 on real Xen (runs in dom0): where the vNVDIMM window goes, and what a running guest's
# pmem survives. Backing: the raw host namespace /dev/pmem0. The companion is started by hand
# (to control its life): xen-vnvdimm tables, xl create -p, xen-vnvdimm run, xl unpause.
#   a. hi: a guest whose RAM reaches above 4 GiB (memory=768, mmio_hole=3584: 512 MiB below the
#      hole, 256 MiB at 4 GiB) and no vnvdimm_base: the window lies above its RAM; in the guest
#      System RAM and Persistent Memory do not overlap; data both ways.
#   b. the same config with vnvdimm_base = 4294967296 (inside its RAM): `tables` refuses it
#      (exit 2, naming vnvdimm_base) and writes nothing; nothing is mapped.
#   b2. pop: `run` for a paused guest with RAM at 4 GiB, given a config whose window (4 GiB) passes
#      every config check, is refused by the populated-window check against Xen's p2m; nothing mapped.
#   c. work: while a guest writes records to its pmem and reads them back, a bad hot-add
#      (backend= a directory) is answered `error: ...`, then SIGTERM + a new run: the companion
#      keeps serving, the guest never sees a wrong byte, and at the end the md5 of its data
#      equals dom0's. Between the SIGTERM and the new run (no companion alive) a second domain's
#      companion for the same frames is refused by the host-wide claims, naming the holder.
#   scripts/xen-lab/run --scenario scripts/xen-lab/scenarios/placement.sh --nvdimm-size 512M
. "$LAB_LIB"
LAB_TOKEN="${LAB_TOKEN:-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')}"
export XEN_VNVDIMM_LOG="${XEN_VNVDIMM_LOG:-Information}"
lab_check "xen-vnvdimm is on PATH" command -v xen-vnvdimm
lab_check "dom0: /dev/pmem0 exists" test -b /dev/pmem0
xs_base() { echo "/local/domain/0/device-model/$1/vnvdimm"; }
memmaps() { xl dmesg | grep -c "memory_map:$1: dom$2 " || true; }
blk_put() { printf '%s\n' "$2" | dd of=/dev/pmem0 bs=4096 seek="$1" conv=sync,notrunc oflag=direct status=none; }
blk_get() { dd if=/dev/pmem0 bs=4096 skip="$1" count=1 iflag=direct status=none | tr -d '\0' | head -n 1; }
# "slot gpa size" per device of a layout.json (written by xen-vnvdimm tables)
layout_devices() {
  awk '/"slot":/ { gsub(/[^0-9]/, "", $2); s = $2 }
       /"gpa":/ { gsub(/[",]/, "", $2); g = $2 }
       /"size":/ { gsub(/[^0-9]/, "", $2); print s, g, $2 }' "$1"
}
hvm_cfg() { # NAME INITRD MEMORY [EXTRA LINE]...: lab_hvm_cfg with another memory size
  local name="$1" initrd="$2" mem="$3"; shift 3
  lab_hvm_cfg "$name" "$initrd" "$@" | sed "s/^memory = .*/memory = $mem/"
}
CPID=""
start_guest() { # NAME CFG: tables, xl create -p, the companion (CPID), unpause once it runs
  local name="$1" cfg="$2" domid
  xen-vnvdimm tables --config "$cfg" --out "$name-tables" --platform xen >"$name-tables.out" 2>&1 \
    || { cat "$name-tables.out"; return 1; }
  xl create -p "$cfg" "acpi_firmware=\"$PWD/$name-tables/acpi_firmware.bin\"" >/dev/null || return 1
  domid=$(xl domid "$name")
  setsid xen-vnvdimm run --platform xen --domid "$domid" --config "$cfg" >"$name-companion-1.log" 2>&1 </dev/null &
  CPID=$!
  wait_state "$name" running "$CPID" || { cat "$name-companion-1.log"; xl destroy "$name"; return 1; }
  xl unpause "$name"
}
state_of() { xenstore-read "$(xs_base "$(xl domid "$1" 2>/dev/null)")/state" 2>/dev/null; }
# waits for the companion's state; ends as soon as the companion or the domain is gone
companion_state() { kill -0 "$3" 2>/dev/null || return 0; [ "$(state_of "$1")" = "$2" ]; }
wait_state() { lab_wait_until "$1" 600 companion_state "$1" "$2" "$3" && [ "$(state_of "$1")" = "$2" ]; }
pid_gone() { local t0; t0=$(lab_secs); while kill -0 "$1" 2>/dev/null; do (( $(lab_secs) - t0 > $2 )) && return 1; sleep 1; done; }

# ---- a. a guest with RAM above 4 GiB, no vnvdimm_base --------------------------------------------
dd if=/dev/urandom of=/dev/pmem0 bs=1M count=16 oflag=direct status=none
blk_put 0 "PLACE-HEAD-$LAB_TOKEN"
blk_put $((100 << 8)) "PLACE-MID-$LAB_TOKEN"
cat >hi.cfg.in <<EOF
mmio_hole = 3584
vnvdimms = [ 'backend=/dev/pmem0, label_size=0' ]
EOF
cat >hi-guest.sh <<G
set -u
echo "LAB-GUEST-UP uptime=\$(cut -d' ' -f1 /proc/uptime)"
grep -E '^[0-9a-f]+-[0-9a-f]+ : (System RAM|Persistent Memory)' /proc/iomem | sed 's/^/LAB-GUEST-IOMEM /'
over=0
for r in \$(sed -n 's/^\([0-9a-f]*\)-\([0-9a-f]*\) : System RAM\$/\1-\2/p' /proc/iomem); do
  for p in \$(sed -n 's/^\([0-9a-f]*\)-\([0-9a-f]*\) : Persistent Memory.*/\1-\2/p' /proc/iomem); do
    [ \$((0x\${r%-*})) -le \$((0x\${p#*-})) ] && [ \$((0x\${p%-*})) -le \$((0x\${r#*-})) ] && { echo "LAB-GUEST-OVERLAP \$r \$p"; over=1; }
  done
done
echo "LAB-GUEST-OVERLAPS \$over"
b=\$(ls -d /sys/block/pmem* | head -n 1); d=/dev/\${b##*/}
echo "LAB-GUEST-PMEM dev=\$d gpa=\$(cat \$(readlink -f \$b/device)/../resource) size=\$(( \$(cat \$b/size) * 512 ))"
dd if=\$d bs=4096 count=1 2>/dev/null | grep -ao 'PLACE-HEAD-[0-9a-f]*' | sed 's/^/LAB-GUEST-READ=/'
dd if=\$d bs=4096 skip=$((100 << 8)) count=1 2>/dev/null | grep -ao 'PLACE-MID-[0-9a-f]*' | sed 's/^/LAB-GUEST-READ=/'
printf 'PLACE-GUEST-%s\n' "$LAB_TOKEN" | dd of=\$d bs=4096 seek=257 conv=sync,notrunc,fsync 2>/dev/null
test \$over = 0
G
lab_guest_initrd hi-guest.sh /tmp/hi.initrd
{ hvm_cfg hi /tmp/hi.initrd 768; cat hi.cfg.in; } >hi.cfg
t0=$(lab_now)
if start_guest hi hi.cfg; then
  lab_follow hi
  read -r _ hi_gpa hi_size <<<"$(layout_devices hi-tables/layout.json | head -n 1)"
  # libxl: low RAM = 4096 - mmio_hole MiB, the rest from 4 GiB up; RAM ends at 4 GiB + 256 MiB
  ram_end=$(( (1 << 32) + ((768 - (4096 - 3584)) << 20) ))
  lab_check "hi: planned window $hi_gpa is above the guest's RAM (ends at $(printf 0x%x $ram_end))" \
    test "$((hi_gpa))" -ge "$ram_end"
  lab_check "hi: guest reached its script" lab_wait_console hi 'LAB-GUEST-UP|GUEST-EXIT=' 1200
  lab_time xl_create_to_guest_hi "$(lab_elapsed "$t0")"
  lab_check "hi: guest ran its script" lab_wait_console hi 'GUEST-EXIT=' 600
  lab_check "hi: guest powered off" lab_wait_gone hi 300
  lab_check "hi: companion exited when the domain went" pid_gone "$CPID" 120
  c="$(tr -d '\r' <"$LAB_OUT/guest-hi.console")"
  grep 'LAB-GUEST-IOMEM' <<<"$c"
  lab_check "hi: the guest has System RAM at 4 GiB (the test means something)" grep -q 'LAB-GUEST-IOMEM 100000000-[0-9a-f]* : System RAM' <<<"$c"
  lab_check "hi: the guest has Persistent Memory at the planned $hi_gpa" grep -q "LAB-GUEST-IOMEM ${hi_gpa#0x}-[0-9a-f]* : Persistent Memory" <<<"$c"
  lab_check "hi: System RAM and Persistent Memory do not overlap" grep -q 'LAB-GUEST-OVERLAPS 0' <<<"$c"
  lab_check "hi: guest sees /dev/pmem at $hi_gpa with $hi_size bytes" grep -q "LAB-GUEST-PMEM dev=/dev/pmem[0-9]* gpa=$hi_gpa size=$hi_size" <<<"$c"
  lab_check "hi: guest read dom0's pattern at 0" grep -q "LAB-GUEST-READ=PLACE-HEAD-$LAB_TOKEN" <<<"$c"
  lab_check "hi: guest read dom0's pattern at 100 MiB" grep -q "LAB-GUEST-READ=PLACE-MID-$LAB_TOKEN" <<<"$c"
  lab_check "hi: dom0 sees the guest's write at 257 * 4 KiB" test "$(blk_get 257)" = "PLACE-GUEST-$LAB_TOKEN"
  lab_check "hi: guest script exited 0" test "$(lab_guest_exit hi)" = 0
  lab_unfollow
else
  lab_check "hi: tables + xl create + companion" false
fi
sed 's/^/[companion-hi] /' hi-companion-1.log 2>/dev/null

# ---- b. an explicit base inside the guest's RAM ---------------------------------------------------
adds=$(xl dmesg | grep -c 'memory_map:add' || true)
{ hvm_cfg bad /tmp/hi.initrd 768; cat hi.cfg.in; echo "vnvdimm_base = 4294967296"; } >bad.cfg
xen-vnvdimm tables --config bad.cfg --out bad-tables --platform xen >bad-tables.out 2>&1; brc=$?
cat bad-tables.out
lab_check "bad: tables refuses vnvdimm_base inside RAM (exit $brc)" test "$brc" = 2
lab_check "bad: its message names vnvdimm_base" grep -q 'error: .*vnvdimm_base' bad-tables.out
lab_check "bad: one line, no stack trace" test "$(wc -l <bad-tables.out)" = 1
lab_check "bad: no tables were written" test ! -e bad-tables/acpi_firmware.bin
lab_check "bad: nothing was mapped" test "$(xl dmesg | grep -c 'memory_map:add' || true)" = "$adds"

# ---- b2. run asks Xen: a window over frames the domain already has is refused --------------------
# A paused guest with 256 MiB of RAM at 4 GiB and no vNVDIMMs; a companion is started for it with a
# 512 MiB guest's config, whose window (4 GiB) passes every config check: only Xen's p2m
# (XENMEM_maximum_gpfn + getpageframeinfo3) can tell that the guest has RAM there.
{ hvm_cfg pop /tmp/hi.initrd 768; echo "mmio_hole = 3584"; } >pop.cfg
{ hvm_cfg pop /tmp/hi.initrd 512; echo "vnvdimms = [ 'backend=/dev/pmem0, label_size=0' ]"; } >pop-run.cfg
if xl create -p pop.cfg >/dev/null; then
  pdom=$(xl domid pop)
  xen-vnvdimm run --platform xen --domid "$pdom" --config pop-run.cfg >pop-companion.log 2>&1 </dev/null; prc=$?
  cat pop-companion.log
  lab_check "pop: run refuses a window over the guest's RAM (exit $prc)" test "$prc" = 2
  lab_check "pop: it says the frames are already populated" grep -q "dom$pdom: guest frames 0x100000000-0x[0-9a-f]* are already populated (0x100000000 holds a page)" pop-companion.log
  lab_check "pop: nothing was mapped into it" test "$(memmaps add "$pdom")" = 0
  lab_check "pop: no state left for it" test ! -e "/run/xen-vnvdimm/$pdom.state"
  xl destroy pop
else
  lab_check "pop: xl create -p" false
fi

# ---- c. a working guest: a bad hot-add, SIGTERM and a new run change nothing ---------------------
W_CMD=200 W_PROG=201
blk_put $W_CMD ""; blk_put $W_PROG ""
cat >work-guest.sh <<G
# writes record n to block 1000 + n % 2048 and reads it back, forever, until dom0 says STOP;
# the progress block tells dom0 how far it got (no page cache: every access reaches the pmem)
get() { blockdev --flushbufs /dev/pmem0; dd if=/dev/pmem0 bs=4096 skip=\$1 count=1 2>/dev/null | tr -d '\0' | head -n 1; }
put() { printf '%s\n' "\$2" | dd of=/dev/pmem0 bs=4096 seek=\$1 conv=sync,notrunc,fsync 2>/dev/null; blockdev --flushbufs /dev/pmem0; }
test -b /dev/pmem0 || { echo "LAB-GUEST-WORK no /dev/pmem0"; exit 1; }
n=0; err=0
while [ "\$(get $W_CMD)" != STOP ]; do
  n=\$((n + 1)); b=\$((1000 + n % 2048))
  put \$b "REC-\$n-$LAB_TOKEN"
  r=\$(get \$b)
  [ "\$r" = "REC-\$n-$LAB_TOKEN" ] || { err=\$((err + 1)); echo "LAB-GUEST-WORK mismatch n=\$n read=\$r"; }
  put $W_PROG "N-\$n E-\$err"
done
echo "LAB-GUEST-WORK records=\$n errors=\$err"
blockdev --flushbufs /dev/pmem0
echo "LAB-GUEST-MD5 \$(dd if=/dev/pmem0 bs=1M count=16 2>/dev/null | md5sum | cut -d' ' -f1)"
test \$err = 0
G
lab_guest_initrd work-guest.sh /tmp/work.initrd
{ lab_hvm_cfg work /tmp/work.initrd; echo "vnvdimms = [ 'backend=/dev/pmem0, label_size=0' ]"; } >work.cfg
progress() { local p; p="$(blk_get $W_PROG)"; p="${p#N-}"; echo "${p%% *}"; }
beyond() { local p; p="$(progress)"; [ -n "$p" ] && [ "$p" -gt "$1" ]; }   # the guest got past record $1
advances() { local p; p="$(progress)"; lab_wait_until work 300 beyond "$(( ${p:-0} + 3 ))"; }
if start_guest work work.cfg; then
  lab_follow work
  wdom=$(xl domid work); wbase="$(xs_base "$wdom")"
  lab_check "work: the guest is writing its pmem" lab_wait_until work 1200 beyond 2
  removes=$(memmaps remove "$wdom"); adds=$(memmaps add "$wdom")
  # a directory as the backing: answered, nothing of the guest changes
  mkdir -p /tmp/not-a-backing
  xen-vnvdimm hot-add --domid "$wdom" --request-id bad1 --timeout 300 "backend=/tmp/not-a-backing/, label_size=0" >bad-hotadd.out 2>&1 &
  hp=$!
  lab_wait_until work 320 sh -c "! kill -0 $hp 2>/dev/null"
  wait "$hp"; hrc=$?
  cat bad-hotadd.out
  lab_check "work: the bad hot-add failed (exit $hrc)" test "$hrc" = 1
  lab_check "work: result/bad1 is error: ..." sh -c "xenstore-read '$wbase/result/bad1' | grep -q '^error: '"
  lab_check "work: the companion still runs after the bad hot-add" kill -0 "$CPID"
  lab_check "work: state is still running" test "$(state_of work)" = running
  lab_check "work: the guest keeps writing after the bad hot-add" advances
  kill -TERM "$CPID"
  lab_check "work: SIGTERM: the companion exits 0" wait "$CPID"
  lab_check "work: SIGTERM: state=stopped" test "$(state_of work)" = stopped
  lab_check "work: the guest keeps writing with no companion" advances
  # No companion runs now, yet the frames stay the guest's: a second domain's companion for the
  # same /dev/pmem0 is refused by the host-wide claims, naming the holder, and maps nothing.
  { lab_hvm_cfg other /tmp/work.initrd; echo "vnvdimms = [ 'backend=/dev/pmem0, label_size=0' ]"; } >other.cfg
  if xl create -p other.cfg >/dev/null; then
    odom=$(xl domid other)
    xen-vnvdimm run --platform xen --domid "$odom" --config other.cfg >other-companion.log 2>&1 </dev/null; orc=$?
    cat other-companion.log
    lab_check "claim: a second domain's run for the same frames is refused (exit $orc)" test "$orc" = 2
    lab_check "claim: the refusal names the holder, dom$wdom" grep -q "are mapped into dom$wdom slot 0.*refusing to map them into dom$odom slot 0" other-companion.log
    lab_check "claim: nothing was mapped into dom$odom" test "$(memmaps add "$odom")" = 0
    xl destroy other
  else
    lab_check "claim: xl create -p other" false
  fi
  setsid xen-vnvdimm run --platform xen --domid "$wdom" --config work.cfg >work-companion-2.log 2>&1 </dev/null &
  CPID=$!
  lab_check "work: a new run re-attached and runs" wait_state work running "$CPID"
  lab_check "work: it says it re-attached" grep -q "stopped and left the guest its pmem: re-attaching to what it mapped" work-companion-2.log
  lab_check "work: the guest keeps writing after the re-attach" advances
  lab_check "work: no memory_map:remove ($removes before, $(memmaps remove "$wdom") after)" test "$(memmaps remove "$wdom")" = "$removes"
  lab_check "work: no second memory_mapping ($adds adds before, $(memmaps add "$wdom") after)" test "$(memmaps add "$wdom")" = "$adds"
  blk_put $W_CMD STOP
  lab_check "work: guest ran its script" lab_wait_console work 'GUEST-EXIT=' 600
  lab_check "work: guest powered off" lab_wait_gone work 300
  lab_check "work: companion exited when the domain went" pid_gone "$CPID" 120
  c="$(tr -d '\r' <"$LAB_OUT/guest-work.console")"
  grep 'LAB-GUEST-WORK' <<<"$c"
  lab_check "work: the guest read back every record it wrote" grep -q 'LAB-GUEST-WORK records=[0-9]* errors=0' <<<"$c"
  g_md5="$(sed -n 's/.*LAB-GUEST-MD5 \([0-9a-f]*\).*/\1/p' <<<"$c" | head -n 1)"
  d_md5="$(dd if=/dev/pmem0 bs=1M count=16 iflag=direct status=none | md5sum | cut -d' ' -f1)"
  lab_check "work: md5 of the guest's data equals dom0's (${g_md5:-none} / $d_md5)" test "$g_md5" = "$d_md5"
  lab_check "work: guest script exited 0" test "$(lab_guest_exit work)" = 0
  lab_unfollow
else
  lab_check "work: tables + xl create + companion" false
fi
sed 's/^/[companion-work-1] /' work-companion-1.log 2>/dev/null
sed 's/^/[companion-work-2] /' work-companion-2.log 2>/dev/null
exit "$(lab_result)"

#!/bin/bash
# vNVDIMM guests through plain xl only (runs in dom0), with the project's package installed by dpkg
# (dom0-init.sh: /usr/sbin/xen-vnvdimm, /usr/lib/xen-vnvdimm/qemu-dm); `xen-vnvdimm tables --config` writes
# /var/lib/xen-vnvdimm/NAME and prints the lines the config needs; from then on libxl starts the
# companion through the device-model wrapper on every create, reboot and restore.
#   2. life: two DAX-file vNVDIMMs, on_reboot="restart": the guest writes, reboots itself, sees
#      its data on the second boot under a new domain id, writes again and powers off; the old
#      companion exits.
#   3. sr: a guest reading and writing its pmem is xl save'd and xl restore'd; at the end the
#      md5 of its device equals dom0's md5 of the backing file.
#   3b. migrate: xl migrate of the restored sr guest (to this host, over a local "ssh") is refused
#      before the guest is suspended: the companion's QMP guard answers xl's dirty-log request
#      (libxc's save setup, before any page is sent or the guest suspended) with the reason, which
#      xl prints; the receiving wrapper never runs; the guest keeps running as the same domain,
#      companion still running, and finishes its loop.
#   4. xl destroy of the running sr guest: no companion, no xenstore nodes, nothing in /run.
#   4b. a stale layout record (vNVDIMM settings changed after tables) is refused: xl create
#      fails, the reason is in /var/log/xen/qemu-dm-NAME.log, nothing is left.
#   5. baseline without vNVDIMMs: xl create -> guest script runs; the guest reboots itself ->
#      second boot, which is saved and restored (timings to compare).
#   scripts/xen-lab/run --scenario scripts/xen-lab/scenarios/xl-lifecycle.sh --nvdimm-size 512M
# libxl gives the device model (companion + QEMU) 60 s to start (LIBXL_DEVICE_MODEL_START_TIMEOUT);
# the NativeAOT companion of the package is running in a few seconds even in this nested dom0.
. "$LAB_LIB"
: "${LAB_TOKEN:?no LAB_TOKEN (xl-lifecycle.host prepare did not run)}"
export XEN_VNVDIMM_LOG="${XEN_VNVDIMM_LOG:-Information}"
# the wrapper's wait for state=running; libxl gives the whole device model 60 s
export XEN_VNVDIMM_START_TIMEOUT="${XEN_VNVDIMM_START_TIMEOUT:-55}"
lab_check "package: xen-vnvdimm is the installed /usr/sbin/xen-vnvdimm" test "$(command -v xen-vnvdimm)" = /usr/sbin/xen-vnvdimm
lab_check "package: the device-model wrapper is installed" test -x /usr/lib/xen-vnvdimm/qemu-dm
lab_check "dom0: /dev/pmem0 exists" test -b /dev/pmem0
SAVE=/var/lib/xen/save; mkdir -p "$SAVE"

# ---- helpers --------------------------------------------------------------------------------------
con() { tr -d '\r' <"$LAB_OUT/guest-$1.console" 2>/dev/null; }
# waits (1 s polls, wall clock) for a console line of guest $1 matching $2 and not matching $4;
# ends early when the guest is gone: a triple fault of its domain, or no live domain of that name
# for 60 s (a reboot leaves a gap of a few seconds between the old domain and the new one)
wait_line() { # NAME REGEX SECS [EXCLUDE]
  local t0 d="" gone=""; t0=$(lab_secs)
  until con "$1" | grep -E "$2" | grep -vqE "${4:-^\$NEVER}"; do
    (( $(lab_secs) - t0 > $3 )) && { echo "lab: no '$2' from $1 within $3 s"; return 1; }
    d=$(xl domid "$1" 2>/dev/null || echo "$d")
    if [ -n "$d" ] && xl dmesg | grep -aq "d${d}v[0-9]* Triple fault"; then
      echo "lab: $1 (dom$d) triple-faulted without '$2'; Xen said:"; lab_xen_said "$d" | sed 's/^/lab:   /'; return 1
    fi
    if lab_alive "$1"; then gone=""
    elif [ -z "$gone" ]; then gone=$(lab_secs)
    elif (( $(lab_secs) - gone > 60 )); then
      con "$1" | grep -E "$2" | grep -vqE "${4:-^\$NEVER}" && return 0
      echo "lab: $1 is gone (60 s without a live domain) without '$2'"; return 1
    fi
    sleep 1
  done
}
boot_id() { con "$1" | sed -n "s/.*$2 boot=\([0-9a-f-]*\).*/\1/p" | tail -n 1; }
companions() { pgrep -f 'xen-vnvdimm run' | tr '\n' ' '; }
no_companion() { local t0; t0=$(lab_secs); while [ -n "$(companions)" ]; do (( $(lab_secs) - t0 > $1 )) && return 1; sleep 1; done; }
# what is left under /run/xen-vnvdimm beyond directories and lock files (claims, state, records)
run_left() { find /run/xen-vnvdimm -mindepth 1 ! -type d ! -name '*.lock' 2>/dev/null; }
run_empty() { [ -z "$(run_left)" ]; }
layout_devices() {
  awk '/"slot":/ { gsub(/[^0-9]/, "", $2); s = $2 }
       /"gpa":/ { gsub(/[",]/, "", $2); g = $2 }
       /"size":/ { gsub(/[^0-9]/, "", $2); print s, g, $2 }' "$1"
}
show_logs() { # NAME: the companion's and libxl's device-model logs
  sed "s/^/[companion-$1] /" "/var/log/xen/xen-vnvdimm-$1.log" 2>/dev/null | tail -n 60
  sed "s/^/[qemu-dm-$1] /" "/var/log/xen/qemu-dm-$1.log" 2>/dev/null | tail -n 20
}
GUEST_LIB='pmem_at() { for b in /sys/block/pmem*; do [ "$(cat $(readlink -f $b/device)/../resource 2>/dev/null)" = "$1" ] && { echo /dev/${b##*/}; return; }; done; }
bid=$(cat /proc/sys/kernel/random/boot_id)'
# make_guest NAME SCRIPT EXTRA_CFG_LINES...: the guest's initrd and xl config NAME.cfg
make_guest() {
  local name="$1" script="$2"; shift 2
  printf '%s\n%s\n' "$GUEST_LIB" "$script" >"$name-guest.sh"
  lab_guest_initrd "$name-guest.sh" "/tmp/$name.initrd"
  lab_hvm_cfg "$name" "/tmp/$name.initrd" 'memory = 256' "$@" >"$name.cfg"
}
# tables for NAME.cfg (default directory); appends the lines it prints to the config
tables() {
  xen-vnvdimm tables --config "$1.cfg" >"$1-tables.out" || return 1
  cat "$1-tables.out"
  grep -E '^(device_model_override|acpi_firmware) = ' "$1-tables.out" >>"$1.cfg"
}
timed() { # VAR CMD...: runs CMD, sets VAR to its duration in seconds
  local var="$1" t0 rc; shift; t0=$(lab_now)
  "$@"; rc=$?
  printf -v "$var" '%s' "$(lab_elapsed "$t0")"
  return $rc
}

# ---- dom0: two DAX files on an fsdax namespace ------------------------------------------------------
ndctl create-namespace -f -e namespace0.0 -m fsdax --map=mem >ns.json 2>&1 || cat ns.json
mkfs.ext4 -q -F -b 4096 /dev/pmem0
mkdir -p /mnt/pmem
lab_check "dom0: ext4 mounted with -o dax" mount -t ext4 -o dax /dev/pmem0 /mnt/pmem
P=/mnt/pmem
for f in a b s; do dd if=/dev/urandom of=$P/$f.img bs=1M count=32 conv=fsync status=none; done
sync

# ---- 2. life: two DAX-file vNVDIMMs, the guest reboots itself -----------------------------------------
LIFE_SCRIPT='set -u
a=$(pmem_at $A_GPA); b=$(pmem_at $B_GPA)
[ -n "$a" ] && [ -n "$b" ] || { echo "LIFE-NOPMEM boot=$bid"; ls /sys/block; exit 1; }
m=$(dd if=$a bs=4096 count=1 2>/dev/null | grep -ao "XLLIFE-BOOT[0-9]-[0-9a-f]*" | head -n 1)
echo "LIFE-PMEM boot=$bid a=$a b=$b marker=${m:-none}"
case "$m" in
  "")
    printf "XLLIFE-BOOT1-%s\n" $TOKEN | dd of=$a bs=4096 conv=sync,notrunc 2>/dev/null
    printf "XLLIFE-B-%s\n" $TOKEN | dd of=$b bs=4096 seek=5 conv=sync,notrunc 2>/dev/null
    sync
    echo "LIFE-REBOOTING boot=$bid"
    reboot -f ;;
  XLLIFE-BOOT1-$TOKEN)
    dd if=$b bs=4096 skip=5 count=1 2>/dev/null | grep -aq "XLLIFE-B-$TOKEN" && echo "LIFE-SAW-B boot=$bid"
    printf "XLLIFE-BOOT2-%s\n" $TOKEN | dd of=$a bs=4096 conv=sync,notrunc 2>/dev/null
    sync
    echo "LIFE-SECOND-DONE boot=$bid"
    exit 0 ;;
  XLLIFE-BOOT2-$TOKEN)
    echo "LIFE-IDLE boot=$bid"; sleep 3000 ;;
  *) echo "LIFE-UNEXPECTED $m"; exit 1 ;;
esac'
cat >life-vnvdimms.cfg <<EOF
vnvdimms = [ 'backend=$P/a.img, label_size=0',   # first
             'backend=$P/b.img, label_size=0' ]
EOF
# the guest script needs the planned addresses: tables once on the vNVDIMM lines alone
xen-vnvdimm tables --config life-vnvdimms.cfg --out life-plan >/dev/null
read -r _ A_GPA _ <<<"$(layout_devices life-plan/layout.json | sed -n 1p)"
read -r _ B_GPA _ <<<"$(layout_devices life-plan/layout.json | sed -n 2p)"
make_guest life "A_GPA=$A_GPA B_GPA=$B_GPA TOKEN=$LAB_TOKEN
$LIFE_SCRIPT" 'on_reboot = "restart"'
cat life-vnvdimms.cfg >>life.cfg
lab_check "life: tables --config writes /var/lib/xen-vnvdimm/life and prints the config lines" tables life
lab_check "life: the record, the firmware and the decoded NFIT are there" \
  test -s /var/lib/xen-vnvdimm/life/layout.json -a -s /var/lib/xen-vnvdimm/life/acpi_firmware.bin -a -s /var/lib/xen-vnvdimm/life/nfit.txt
t0=$(lab_now)
if xl create life.cfg >life-create.out 2>&1; then
  lab_time xl_create_returned_life "$(lab_elapsed "$t0")"
  lab_follow life
  d1=$(xl domid life)
  lab_check "life: companion running when xl create returns" test "$(xenstore-read /local/domain/0/device-model/$d1/vnvdimm/state)" = running
  wait_line life 'LIFE-PMEM boot=' 900 && lab_time life_create_to_guest_pmem "$(lab_elapsed "$t0")"
  b1=$(boot_id life LIFE-PMEM)
  lab_check "life: first boot found no marker" sh -c "tr -d '\r' <$LAB_OUT/guest-life.console | grep -q 'boot=$b1 .*marker=none'"
  wait_line life "LIFE-REBOOTING boot=$b1" 300 && t1=$(lab_now)
  if wait_line life "LIFE-PMEM boot=" 900 "boot=$b1"; then
    lab_time life_reboot_to_second_boot_pmem "$(lab_elapsed "$t1")"
    d2=$(xl domid life)
    lab_check "life: second boot is a new domain ($d1 -> $d2)" test -n "$d2" -a "$d2" != "$d1"
    lab_check "life: second boot saw the first boot's marker" sh -c "tr -d '\r' <$LAB_OUT/guest-life.console | grep -q 'LIFE-PMEM boot=.* marker=XLLIFE-BOOT1-$LAB_TOKEN'"
    lab_check "life: second boot read the second device's data" wait_line life 'LIFE-SAW-B' 300
    lab_check "life: second boot wrote and finished" wait_line life 'LIFE-SECOND-DONE' 300
    lab_check "life: guest powered off" lab_wait_gone life 300
    lab_check "life: the first domain's companion is gone" sh -c "! xenstore-exists /local/domain/0/device-model/$d1/vnvdimm"
    lab_check "life: no companion left after power-off" no_companion 120
    lab_check "life: the second boot's write is in a.img" sh -c "dd if=$P/a.img bs=4096 count=1 2>/dev/null | grep -aq XLLIFE-BOOT2-$LAB_TOKEN"
    lab_check "life: the first boot's write is in b.img" sh -c "dd if=$P/b.img bs=4096 skip=5 count=1 2>/dev/null | grep -aq XLLIFE-B-$LAB_TOKEN"
  else
    lab_check "life: second boot saw its pmem" false
  fi
else
  cat life-create.out; lab_check "life: xl create" false
fi
show_logs life
xl destroy life >/dev/null 2>&1

# ---- 3. sr: save and restore a guest that reads and writes its pmem -------------------------------------
cat >sr-vnvdimms.cfg <<EOF
vnvdimms = [ 'backend=$P/s.img, label_size=0' ]
EOF
xen-vnvdimm tables --config sr-vnvdimms.cfg --out sr-plan >/dev/null
read -r _ S_GPA _ <<<"$(layout_devices sr-plan/layout.json | sed -n 1p)"
make_guest sr "S_GPA=$S_GPA TOKEN=$LAB_TOKEN"'
set -u
s=$(pmem_at $S_GPA); [ -n "$s" ] || { echo "SR-NOPMEM"; exit 1; }
echo "SR-PMEM boot=$bid dev=$s"
bad=0
i=1
while [ $i -le 150 ]; do
  printf "SR-%06d-%s\n" $i $TOKEN | dd of=$s bs=4096 seek=$i conv=sync,notrunc 2>/dev/null
  p=$((i - 1))
  [ $p -ge 1 ] && { dd if=$s bs=4096 skip=$p count=1 2>/dev/null | grep -aq "SR-$(printf %06d $p)-$TOKEN" || { echo "SR-READBACK-BAD $p"; bad=1; }; }
  [ $i = 20 ] && echo "SR-LOOPING boot=$bid"
  i=$((i + 1))
  sleep 0.1
done
sync
echo "SR-MD5 $(md5sum <$s | cut -d" " -f1) bad=$bad"
echo "SR-IDLE"
sleep 3000'
cat sr-vnvdimms.cfg >>sr.cfg
tables sr >/dev/null
if xl create sr.cfg >sr-create.out 2>&1; then
  lab_follow sr
  if wait_line sr 'SR-LOOPING' 900; then
    lab_check "sr: the companion guards libxl's QMP socket (xl save passes through it)" \
      grep -q "qmp guard: on /var/run/xen/qmp-libxl-$(xl domid sr) " /var/log/xen/xen-vnvdimm-sr.log
    lab_check "sr: xl save while the guest writes" timed ts xl save sr "$SAVE/sr"
    lab_time sr_xl_save "$ts"
    lab_check "sr: the companion exits with the saved domain" no_companion 120
    lab_check "sr: xl restore" timed tr xl restore "$SAVE/sr"
    lab_time sr_xl_restore "$tr"
    d=$(xl domid sr)
    lab_check "sr: a companion runs for the restored domain" test "$(xenstore-read /local/domain/0/device-model/$d/vnvdimm/state 2>/dev/null)" = running
    # ---- 3b. xl migrate (to this host over a local "ssh"): refused by the sender's QMP guard
    printf '#!/bin/sh\nshift\nexec "$@"\n' >/tmp/local-ssh; chmod +x /tmp/local-ssh
    : >/var/log/xen/qemu-dm-sr--incoming.log 2>/dev/null
    lab_check "migrate: the restored domain's companion guards its QMP socket" \
      grep -q "qmp guard: on /var/run/xen/qmp-libxl-$d " /var/log/xen/xen-vnvdimm-sr.log
    t0=$(lab_now)
    if xl migrate -s /tmp/local-ssh sr localhost >migrate.out 2>&1; then
      lab_check "migrate: xl migrate is refused" false
    else
      lab_check "migrate: xl migrate is refused" true
    fi
    lab_time sr_xl_migrate_refused "$(lab_elapsed "$t0")"
    sed 's/^/[xl migrate] /' migrate.out | tail -n 30
    sed 's/^/[qemu-dm-sr--incoming] /' /var/log/xen/qemu-dm-sr--incoming.log 2>/dev/null | tail -n 10
    lab_check "migrate: xl prints the reason" \
      grep -q "live migration of domain $d refused before the guest was suspended: its vNVDIMMs are files on this host's pmem" migrate.out
    # libxc's HVM save setup asks for QEMU's dirty log before the first page is sent; the guest is
    # suspended only after the last round of pages
    lab_check "migrate: it failed in libxc's save setup, before any page or the suspend" grep -q "Couldn't enable qemu log-dirty mode" migrate.out
    lab_check "migrate: the companion logged the refusal" grep -q "migration: xen-vnvdimm: live migration of domain $d refused" /var/log/xen/xen-vnvdimm-sr.log
    lab_check "migrate: the receiving wrapper never ran" sh -c "! grep -q 'refusing to receive' /var/log/xen/qemu-dm-sr--incoming.log"
    lab_check "migrate: the guest runs on as the same domain ($d)" test "$(xl domid sr 2>/dev/null)" = "$d"
    lab_check "migrate: its companion still runs" test "$(xenstore-read /local/domain/0/device-model/$d/vnvdimm/state 2>/dev/null)" = running
    lab_check "migrate: no receiving domain is left" sh -c "! xl domid sr--incoming"
    lab_check "sr: the guest finished its loop" wait_line sr 'SR-MD5 ' 1200
    wait_line sr 'SR-IDLE' 300
    gmd5=$(con sr | sed -n 's/.*SR-MD5 \([0-9a-f]*\).*/\1/p' | tail -n 1)
    # ---- 4. xl destroy of the running vNVDIMM guest
    d=$(xl domid sr)
    lab_check "destroy: xl destroy" xl destroy sr
    lab_check "destroy: no companion left" no_companion 120
    lab_check "destroy: no companion xenstore nodes" sh -c "! xenstore-exists /local/domain/0/device-model/$d/vnvdimm"
    lab_check "destroy: nothing under /run/xen-vnvdimm" run_empty
    hmd5=$(md5sum <$P/s.img | cut -d' ' -f1)
    lab_check "sr: the guest's md5 ($gmd5) equals dom0's ($hmd5)" test -n "$gmd5" -a "$gmd5" = "$hmd5"
    lab_check "sr: every read-back in the guest matched" sh -c "! tr -d '\r' <$LAB_OUT/guest-sr.console | grep -q SR-READBACK-BAD"
    lab_check "sr: the guest's loop reported no bad read" sh -c "tr -d '\r' <$LAB_OUT/guest-sr.console | grep -q 'SR-MD5 [0-9a-f]* bad=0'"
  else
    lab_check "sr: guest started writing" false
  fi
else
  cat sr-create.out; lab_check "sr: xl create" false
fi
show_logs sr
xl destroy sr >/dev/null 2>&1; rm -f "$SAVE/sr"

# ---- 4b. a stale layout record is refused --------------------------------------------------------------------
echo 'dsm_port = 2600' >>life.cfg
: >/var/log/xen/qemu-dm-life.log 2>/dev/null
if xl create life.cfg >stale-create.out 2>&1; then
  lab_check "stale: xl create fails" false
  xl destroy life
else
  cat stale-create.out
  lab_check "stale: xl create fails" true
fi
lab_check "stale: the reason is in qemu-dm-life.log" grep -q "changed after \`xen-vnvdimm tables\` wrote /var/lib/xen-vnvdimm/life; re-run tables" /var/log/xen/qemu-dm-life.log
lab_check "stale: no domain left" sh -c "! xl domid life"
show_logs life

# ---- 5. baseline without vNVDIMMs: create, the guest's own reboot, save and restore -------------------------
make_guest base 'echo "BASE-UP boot=$bid"; sleep 60; echo "BASE-REBOOTING boot=$bid"; reboot -f' 'on_reboot = "restart"'
t0=$(lab_now)
if xl create base.cfg >base-create.out 2>&1; then
  lab_follow base
  wait_line base 'BASE-UP boot=' 900 && lab_time base_create_to_script "$(lab_elapsed "$t0")"
  b1=$(boot_id base BASE-UP); d1=$(xl domid base)
  wait_line base "BASE-REBOOTING boot=$b1" 300 && t1=$(lab_now)
  if wait_line base 'BASE-UP boot=' 900 "boot=$b1"; then
    lab_time base_reboot_to_second_boot "$(lab_elapsed "$t1")"
    lab_check "base: rebooted as a new domain" test "$(xl domid base)" != "$d1"
    # within the second boot's 60 s of sleep
    lab_check "base: xl save" timed ts xl save base "$SAVE/base"
    lab_time base_xl_save "$ts"
    lab_check "base: xl restore" timed tr xl restore "$SAVE/base"
    lab_time base_xl_restore "$tr"
  fi
  xl destroy base; rm -f "$SAVE/base"
else
  cat base-create.out; lab_check "base: xl create" false
fi

# ---- the end -----------------------------------------------------------------------------------------------
lab_check "end: no companion process" no_companion 60
lab_check "end: nothing under /run/xen-vnvdimm" run_empty
echo "end: companions: [$(companions)] /run/xen-vnvdimm: [$(run_left | tr '\n' ' ')]"
exit "$(lab_result)"

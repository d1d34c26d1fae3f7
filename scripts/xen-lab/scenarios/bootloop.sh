#!/bin/bash
# Boot-reliability loop (runs in dom0): boots the same small HVM guest many times in one lab
# session and counts how each boot ended. Diagnostic, not part of the lab stage.
#   scripts/xen-lab/run --scenario scripts/xen-lab/scenarios/bootloop.sh --timeout 5400 \
#       --env LAB_BOOTS=20 --env LAB_BOOT_VARIANTS="plain cmp" [--env LAB_GUEST_APPEND=...]
#       [--env LAB_BOOT_BUDGET=SECONDS]   start no new boot after this much time (then the summary)
# Variants (interleaved, LAB_BOOTS boots each):
#   plain      a guest with no vNVDIMM (xl create)
#   cmp        the same guest with the companion's mappings: /dev/pmem0 (raw) as one vNVDIMM,
#              tables + xl create -p + xen-vnvdimm run + unpause (the steps the device-model wrapper takes, done by hand)
#   *-nopv     the same with xen_nopv on the guest's kernel command line
#   *-1g       the same with memory = 1024 (guest RAM size)
#   *-tsc      the same with tsc_mode = "native" (what every other lab guest uses): the guest's
#              RDTSC runs without a VM exit; the variants without -tsc use Xen's default mode, which
#              on this emulated CPU (no invariant TSC) traps and emulates every RDTSC
# LAB_BOOT_STRESS=N: N busy loops in dom0 while the guests boot (the stage's scenarios keep dom0
#   busy: the companion, QEMU, dd and md5sum of the backings), changing the timing of guest exits.
# LAB_BOOT_HAMMER=SECONDS: after booting, each guest reads its clock for this long (a shell loop on
#   /proc/uptime: every read is a clocksource read, i.e. an RDTSC, which Xen traps and emulates in
#   its default TSC mode on this CPU and does not in tsc_mode "native"); the guest prints how many
#   reads it made. Thousands of RDTSC exits a second instead of the few a boot makes.
#   LAB_BOOT_HAMMER_SRC=rtc reads /sys/class/rtc/rtc0/time instead: port I/O to the CMOS clock,
#   which Xen emulates itself, so the same kind of world switch without an RDTSC.
# LAB_BOOT_VERBOSE=0: the stage's own guest settings (quiet, console on ttyS0) instead of a verbose
#   kernel log; with LAB_GUEST_APPEND=nokaslr a fault's RIP still resolves through the kallsyms.
# The guest kernel logs to its serial console from the first instruction (earlyprintk=ttyS0, no
# quiet); a guest that Xen shuts down (triple fault: HVM shutdown action 1 = reboot) is kept
# (on_reboot = "preserve") so xenctx can read its registers and stack before it is destroyed.
# The first good cmp boot writes its /proc/kallsyms through its pmem (the Debian System.map in
# /boot is a stub): out/guest-kallsyms.txt + the boot's _text resolve every RIP.
# Output: one "LAB-BOOT i variant result seconds [rip]" line per boot, "LAB-BOOTS variant
# ok=N fault=N other=N" per variant; the scenario fails (exit 1) when any boot did not end ok.
. "$LAB_LIB"
boots="${LAB_BOOTS:-20}"
variants="${LAB_BOOT_VARIANTS:-plain cmp}"
export LAB_GUEST_QUIET="${LAB_GUEST_QUIET-}"
# the kernel's whole log goes to Xen's console (port 0xe9: xl dmesg and the lab console keep it
# even after a triple fault); only the script's lines go through the slow emulated UART
export LAB_GUEST_CONSOLE="${LAB_GUEST_CONSOLE-hvc0}"
verbose="earlyprintk=xen keep_bootcon loglevel=7 ${LAB_GUEST_APPEND:-}"
if [ "${LAB_BOOT_VERBOSE:-1}" = 0 ]; then
  verbose="${LAB_GUEST_APPEND:-}" LAB_GUEST_QUIET=quiet LAB_GUEST_CONSOLE=ttyS0
fi
XENBIN=/usr/lib/xen-4.17/bin
mkdir -p boots

cat >guest.sh <<'G'
exec >/dev/ttyS0 2>&1
echo "LAB-GUEST-TEXT $(grep -m1 ' _text$' /proc/kallsyms)"
b=$(ls -d /sys/block/pmem* 2>/dev/null | head -n 1)
if [ -n "$b" ] && [ ! -e /tmp/.ks ] && grep -q ks=1 /proc/cmdline; then
  grep ' [tTwW] ' /proc/kallsyms | gzip -1 | dd of=/dev/${b##*/} bs=1M seek=64 conv=notrunc 2>/dev/null
  sync; echo "LAB-GUEST-KALLSYMS written"
fi
h=$(sed -n 's/.*hammer=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$h" ]; then
  src=/proc/uptime; grep -q hammersrc=rtc /proc/cmdline && src=/sys/class/rtc/rtc0/time
  [ -r "$src" ] || { echo "LAB-GUEST-HAMMER no $src, reading /proc/uptime"; src=/proc/uptime; }
  read -r u _ </proc/uptime; t0=${u%.*}; n=0; next=$((t0 + 60))
  while [ "${u%.*}" -lt $((t0 + h)) ]; do
    i=0; while [ $i -lt 500 ]; do read -r x _ <$src; i=$((i + 1)); done
    read -r u _ </proc/uptime
    n=$((n + 500))
    [ "${u%.*}" -ge $next ] && { echo "LAB-GUEST-HAMMER reads=$n at $u"; next=$((next + 60)); }
  done
  echo "LAB-GUEST-HAMMER reads=$n in $((${u%.*} - t0)) s ($src: $x)"
fi
echo "LAB-GUEST-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
G
lab_guest_initrd guest.sh /tmp/boot.initrd
ks_done=0

# "result rip" of a kept domain: xenctx's registers and stack (symbols from the guest's kallsyms
# when we have them: shifted by nothing, the RIP is printed raw as well)
post_mortem() { # NAME DOMID TAG
  local f="boots/$3.xenctx"
  $XENBIN/xenctx -a -S -C "$2" >"$f" 2>&1 || $XENBIN/xenctx -a -S "$2" 0 >"$f" 2>&1
  $XENBIN/xen-hvmctx "$2" >"boots/$3.hvmctx" 2>&1
  sed -n 's/.*\brip: *\([0-9a-f]*\).*/\1/p' "$f" | head -n 1
}

boot_one() { # INDEX VARIANT
  local i="$1" v="$2" name="b$1" t0 domid res rip="" cpid="" app="$verbose" mem=512 tag
  tag="$(printf '%02d' "$i")-$v"
  local console="$LAB_GUEST_CONSOLE" quiet="$LAB_GUEST_QUIET"
  # xen_nopv: no Xen console (hvc0) and no earlyprintk=xen; the guest's init needs a console, so
  # ttyS0, quiet (every byte on the emulated UART is an ioreq round trip)
  [[ "$v" == *-nopv* ]] && { app="xen_nopv"; console=ttyS0; quiet=quiet; }
  [[ "$v" == *-1g* ]] && mem=1024
  local tsc='s/^tsc_mode = .*/tsc_mode = "default"/'
  [[ "$v" == *-tsc* ]] && tsc='s/^tsc_mode = .*/tsc_mode = "native"/'
  [[ "$v" == cmp* ]] && ((!ks_done)) && app+=" ks=1"
  [ -n "${LAB_BOOT_HAMMER:-}" ] && app+=" hammer=$LAB_BOOT_HAMMER hammersrc=${LAB_BOOT_HAMMER_SRC:-uptime}"
  rm -f "$LAB_OUT/guest-$name.console"
  LAB_GUEST_APPEND="$app" LAB_GUEST_CONSOLE="$console" LAB_GUEST_QUIET="$quiet" lab_hvm_cfg "$name" /tmp/boot.initrd \
    | sed -e 's/^on_reboot = .*/on_reboot = "preserve"/' -e 's/^on_crash = .*/on_crash = "preserve"/' \
          -e "s/^memory = .*/memory = $mem/" -e "$tsc" >"boots/$tag.cfg"
  t0=$(lab_now)
  if [[ "$v" == cmp* ]]; then
    echo "vnvdimms = [ 'backend=/dev/pmem0, label_size=0' ]" >>"boots/$tag.cfg"
    xen-vnvdimm tables --config "boots/$tag.cfg" --out "boots/$tag-tables" --platform xen >/dev/null \
      && xl create -p "boots/$tag.cfg" "acpi_firmware=\"$PWD/boots/$tag-tables/acpi_firmware.bin\"" >/dev/null 2>&1 \
      || { echo "LAB-BOOT $i $v setup-failed 0"; count "$v" other; return 1; }
    domid=$(xl domid "$name")
    setsid xen-vnvdimm run --platform xen --domid "$domid" --config "boots/$tag.cfg" >"boots/$tag.companion.log" 2>&1 </dev/null &
    cpid=$!
    running() { [ "$(xenstore-read "/local/domain/0/device-model/$domid/vnvdimm/state" 2>/dev/null)" = running ]; }
    lab_wait_until "$name" 300 running || { echo "LAB-BOOT $i $v companion-failed 0"; count "$v" other; cat "boots/$tag.companion.log"; xl destroy "$name"; return 1; }
    xl unpause "$name"
  else
    xl create "boots/$tag.cfg" >/dev/null 2>&1 || { echo "LAB-BOOT $i $v setup-failed 0"; count "$v" other; return 1; }
    domid=$(xl domid "$name")
  fi
  tsc_probe "$domid" "$v"
  lab_wait_console "$name" 'LAB-GUEST-DONE' 2400 >"boots/$tag.wait" 2>&1
  if lab_wait_gone "$name" 20; then
    res=ok; grep -aq LAB-GUEST-DONE "$LAB_OUT/guest-$name.console" || res=other
  elif xl dmesg | grep -aq "d${domid}v[0-9]* Triple fault"; then
    res=fault; rip="$(post_mortem "$name" "$domid" "$tag")"
  else
    res=other; post_mortem "$name" "$domid" "$tag" >/dev/null
  fi
  xl destroy "$name" >/dev/null 2>&1
  lab_xen_said "$domid" >"boots/$tag.xen"
  cp "$LAB_OUT/guest-$name.console" "boots/$tag.console" 2>/dev/null
  if [ -n "$cpid" ]; then
    for _ in $(seq 1 60); do kill -0 "$cpid" 2>/dev/null || break; sleep 1; done
    kill -0 "$cpid" 2>/dev/null && { echo "lab: companion of $name still there; killing it"; kill -9 "$cpid"; }
    wait "$cpid" 2>/dev/null
    if ((!ks_done)) && [ "$res" = ok ] && grep -aq LAB-GUEST-KALLSYMS "boots/$tag.console"; then
      dd if=/dev/pmem0 bs=1M skip=64 count=32 2>/dev/null | gzip -dc >guest-kallsyms.txt 2>/dev/null
      [ -s guest-kallsyms.txt ] && ks_done=1
      grep -a LAB-GUEST-TEXT "boots/$tag.console" | tr -d '\r' >guest-kallsyms.text
      echo "lab: guest kallsyms: $(wc -l <guest-kallsyms.txt) symbols ($(cat guest-kallsyms.text))"
    fi
  fi
  echo "LAB-BOOT $i $v $res $(lab_elapsed "$t0")${rip:+ rip=$rip}$(tr -d '\r' <"boots/$tag.console" 2>/dev/null | sed -n 's/^LAB-GUEST-HAMMER \(reads=[0-9]* in [0-9]* s\)/ \1/p')"
  if [ "$res" != ok ]; then
    sed 's/^/lab:   xen: /' "boots/$tag.xen"
    tr -d '\r' <"boots/$tag.console" | tail -n 15 | sed 's/^/lab:   console: /'
    grep -aiE 'rip|rsp|cr[0234]|stack|call trace' "boots/$tag.xenctx" 2>/dev/null | head -n 40 | sed 's/^/lab:   xenctx: /'
  fi
  count "$v" "$res"
}
# once per variant: how Xen runs this domain's TSC (debug key 's': mode 0 = emulate when the host
# TSC is not reliable, 2 = native; "vtsc" lines count the RDTSCs Xen emulated)
tsc_probe() { # DOMID VARIANT
  local seen="tsc_seen_${2//-/_}"
  [ -n "${!seen:-}" ] && return 0
  eval "$seen=1"
  xl debug-keys s >/dev/null 2>&1; sleep 1
  xl dmesg | grep -aE "TSC|dom$1[:( ]|vtsc" | tail -n 6 | sed "s/^/lab: tsc ($2): /"
}
count() { eval "n_${1//-/_}_$2=\$(( \${n_${1//-/_}_$2:-0} + 1 ))"; }

stress=()
for _ in $(seq 1 "${LAB_BOOT_STRESS:-0}"); do
  (while :; do :; done) &
  stress+=("$!")
done
((${#stress[@]})) && echo "lab: ${#stress[@]} busy loops in dom0 while the guests boot"
budget="${LAB_BOOT_BUDGET:-100000}" t_loop=$(lab_secs)
for i in $(seq 1 "$boots"); do
  for v in $variants; do
    (( $(lab_secs) - t_loop > budget )) && { echo "lab: boot budget of $budget s used up"; break 2; }
    boot_one "$i" "$v"
  done
done
((${#stress[@]})) && kill "${stress[@]}" 2>/dev/null
fails=0
for v in $variants; do
  k="${v//-/_}"; ok=$(eval echo "\${n_${k}_ok:-0}"); f=$(eval echo "\${n_${k}_fault:-0}"); o=$(eval echo "\${n_${k}_other:-0}")
  echo "LAB-BOOTS $v ok=$ok fault=$f other=$o"
  fails=$((fails + f + o))
done
exit $((fails > 0))

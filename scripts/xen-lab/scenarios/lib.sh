# Helpers for Xen lab scenarios (sourced in dom0: `. "$LAB_LIB"`). scripts/xen-lab/run puts
# this file on the lab disk as /lab/in/lib.sh.
#
# Environment of a scenario (dom0, root, cwd $LAB_OUT, stdin /dev/null):
#   LAB_IN=/lab/in  LAB_OUT=/lab/out (copied back to the host: --out DIR)  LAB_FILES=/lab/in/files
#   LAB_GUEST_KERNEL, LAB_GUEST_INITRD   the guest harness kernel (bzImage) + initramfs
#   LAB_NVDIMM_SIZE (bytes)  LAB_HOST_BACKING (host path of the outer NVDIMM's backing file)
#   LAB_GUEST_QUIET (default "quiet"; run --env LAB_GUEST_QUIET= for a verbose guest kernel:
#                    every console byte is an emulated UART write, slow under TCG)
#   LAB_GUEST_APPEND  more guest kernel arguments (e.g. "earlyprintk=xen loglevel=7 xen_nopv")
#   LAB_GUEST_CONSOLE the guest kernel's console= (default ttyS0; the guest script's output and
#                    GUEST-EXIT then reach the serial file). A verbose kernel log through the
#                    emulated UART costs minutes on a loaded host (every byte an ioreq to QEMU in
#                    dom0); "hvc0" + LAB_GUEST_APPEND="earlyprintk=xen keep_bootcon" sends the
#                    kernel's log to Xen's console instead (port 0xe9, handled by Xen itself)
#   xen-vnvdimm is the package dom0-init.sh installed (/usr/sbin); PATH starts with /lab/in/bin
#   (a bare publish goes there instead of a package: XEN_LAB_PUBLISH)
#
#   lab_time NAME SECONDS        prints "LAB-TIME NAME=SECONDS" (collected by run)
#   lab_now                      dom0 uptime in seconds (for timing); lab_secs: whole seconds
#   lab_guest_initrd SCRIPT OUT  OUT = guest harness initramfs + SCRIPT as /guest-script.sh
#   lab_hvm_cfg NAME INITRD [EXTRA_CFG_LINE]...   prints an xl config (HVM, direct kernel boot,
#                                serial to $LAB_OUT/guest-NAME.console, no VNC/VGA)
#   lab_follow NAME              copies the guest's console live to the scenario's output, each
#                                line prefixed "[NAME] " (stopped when the scenario exits)
#   lab_wait_gone NAME SECONDS   waits until domain NAME no longer exists (1 on timeout)
#   lab_alive NAME               domain NAME exists and has not shut down or crashed
#   lab_wait_console NAME REGEX SECONDS   waits for REGEX in the guest console file; ends (1) as
#                                soon as the domain is gone, printing Xen's last lines about it
#                                (every 60 s it prints progress and calls lab_progress_hook NAME
#                                if the scenario has one)
#   lab_wait_until NAME SECONDS CMD...   waits until CMD succeeds; 1 on timeout or as soon as
#                                domain NAME is gone
#   lab_xen_said DOMID           Xen's console lines about domain DOMID (e.g. a triple fault)
#   lab_guest_exit NAME          the guest script's status from its GUEST-EXIT= line (or empty)
#   lab_check DESCRIPTION CMD... runs CMD, prints "LAB-CHECK ok|FAIL: DESCRIPTION", counts failures
#   lab_result                   returns the number of failed checks (use as `exit $(lab_result)`)

LAB_FAILS=0
# no forks where it can be helped: process creation in a PV dom0 under nested TCG is slow
lab_now() { local up _; read -r up _ </proc/uptime; echo "$up"; }
lab_secs() { local up _; read -r up _ </proc/uptime; echo "${up%.*}"; }   # whole seconds
lab_time() { echo "LAB-TIME $1=$2"; }
lab_elapsed() { awk -v a="$1" -v b="$(lab_now)" 'BEGIN{printf "%.1f", b-a}'; }

lab_check() {
  local what="$1"; shift
  if "$@"; then echo "LAB-CHECK ok: $what"
  else echo "LAB-CHECK FAIL: $what"; LAB_FAILS=$((LAB_FAILS + 1)); fi
}
lab_result() { echo "$LAB_FAILS"; }

lab_guest_initrd() {
  local script="$1" out="$2" d
  d="$(mktemp -d)"
  cp "$script" "$d/guest-script.sh" && chmod 0755 "$d/guest-script.sh"
  (cd "$d" && echo guest-script.sh | busybox cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 >"$d/extra.gz"
  cat "$LAB_GUEST_INITRD" "$d/extra.gz" >"$out"
  rm -rf "$d"
}

# tsc_mode = "native": this emulated CPU has no invariant TSC, so in Xen's default TSC mode every
# guest RDTSC (each clocksource read) is a VM exit that Xen emulates; every such world switch under
# QEMU's emulated SVM has a small chance of leaving the guest's vCPU with a broken state (triple
# fault). Native RDTSC takes that exit away (README "the triple-fault hunt"). LAB_TSC_MODE=default
# restores Xen's default.
# pci=noearly: the guest's CPU is AMD (qemu64), so its kernel searches every PCI bus for an AGP
# aperture, twice: 2 x 8,192 config reads (bus x slot), each two ioreqs to QEMU in dom0 (on a loaded
# host: 336 s of guest time between "tsc: Detected" and "AGP: No AGP bridge found")
lab_hvm_cfg() {
  local name="$1" initrd="$2"; shift 2
  cat <<EOF
name = "$name"
type = "hvm"
memory = 512
vcpus = 1
kernel = "$LAB_GUEST_KERNEL"
ramdisk = "$initrd"
cmdline = "console=${LAB_GUEST_CONSOLE:-ttyS0} ${LAB_GUEST_QUIET-quiet}${LAB_GUEST_APPEND:+ $LAB_GUEST_APPEND} panic=-1 oops=panic pci=noearly acpi_no_memhotplug mitigations=off tsc=reliable no_timer_check cryptomgr.notests initcall_blacklist=crypto_kdf108_init ipv6.disable=1 rdinit=/init"
serial = "file:$LAB_OUT/guest-$name.console"
vnc = 0
vga = "none"
sdl = 0
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
device_model_version = "qemu-xen"
device_model_override = "/usr/libexec/xen-qemu-system-i386"
tsc_mode = "${LAB_TSC_MODE:-native}"
EOF
  local l
  for l in "$@"; do printf '%s\n' "$l"; done
}

LAB_FOLLOWERS=""
lab_follow() {
  local f="$LAB_OUT/guest-$1.console"
  touch "$f"
  tail -n +1 -F -s 2 "$f" 2>/dev/null | sed -u "s/\r//g; s/^/[$1] /" &
  LAB_FOLLOWERS="$LAB_FOLLOWERS $!"
}
lab_unfollow() {
  sleep 0.5
  # shellcheck disable=SC2086
  [ -n "$LAB_FOLLOWERS" ] && pkill -P "$$" tail 2>/dev/null
  LAB_FOLLOWERS=""
}
trap lab_unfollow EXIT

# waits count wall-clock time (dom0's uptime), not loop turns: under TCG on a loaded host one
# turn of a polling loop can take seconds
lab_wait_gone() {
  local name="$1" secs="$2" t0; t0=$(lab_secs)
  while xl domid "$name" >/dev/null 2>&1; do
    (( $(lab_secs) - t0 > secs )) && return 1
    sleep 2
  done
  return 0
}

# a domain that has shut down (e.g. a triple fault: Xen's reboot action) or crashed but is kept
# (on_reboot/on_crash = "preserve") is as gone as a destroyed one: nothing more will come from it
lab_alive() {
  local st
  st="$(xl list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }')"
  [ -n "$st" ] && [[ "$st" != *s* && "$st" != *c* && "$st" != *d* ]]
}

# (not the "HVM dN save: ..." lines a context dump like xen-hvmctx makes Xen print)
lab_xen_said() { xl dmesg 2>/dev/null | grep -a -E "[( ]d$1(v[0-9]+)?[ :)]" | grep -av ' save: ' | tail -n 8; }

lab_wait_until() {
  local name="$1" secs="$2" t0; shift 2; t0=$(lab_secs)
  until "$@"; do
    (( $(lab_secs) - t0 > secs )) && return 1
    lab_alive "$name" || { "$@"; return; }   # one last look: it may have finished as it went
    sleep 2
  done
  return 0
}

lab_wait_console() { # progress every 60 s: the domain's state, CPU time and console size
  local name="$1" re="$2" secs="$3" f="$LAB_OUT/guest-$1.console" t0 next=60 el domid
  t0=$(lab_secs); domid="$(xl domid "$name" 2>/dev/null)"
  until [ -f "$f" ] && grep -aEq "$re" "$f"; do
    el=$(( $(lab_secs) - t0 ))
    ((el > secs)) && return 1
    if ! lab_alive "$name"; then
      grep -aEq "$re" "$f" 2>/dev/null && return 0
      echo "lab: $name (dom${domid:-?}) is gone after ${el} s without /$re/ on its console; Xen said:"
      [ -n "$domid" ] && lab_xen_said "$domid" | sed 's/^/lab:   /'
      return 1
    fi
    if ((el >= next)); then
      echo "lab: waiting for $name (${el} s): $(xl list "$name" 2>/dev/null | awk 'NR == 2 { print "state " $5 ", cpu " $6 " s" }'), console $(stat -c %s "$f" 2>/dev/null) bytes"
      declare -F lab_progress_hook >/dev/null && lab_progress_hook "$name"
      next=$((next + 60))
    fi
    sleep 2
  done
  return 0
}

lab_guest_exit() {
  tr -d '\r' <"$LAB_OUT/guest-$1.console" 2>/dev/null | sed -n 's/.*GUEST-EXIT=\([0-9][0-9]*\).*/\1/p' | tail -n 1
}

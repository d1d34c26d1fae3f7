#!/bin/bash
# The Xen lab's dom0 init (PID 1). scripts/xen-lab/run puts it on the per-run lab disk
# (/dev/vdb, mounted on /lab) as /lab/in/dom0-init.sh; the image's stub /sbin/lab-init execs it.
# It mounts the basics, loads the Xen and nvdimm modules, mounts xenfs, starts oxenstored,
# xenconsoled and xen-init-dom0, installs /lab/in/xen-vnvdimm.deb (the project's package) with
# dpkg, runs /lab/in/scenario.sh (cwd /lab/out, stdin /dev/null),
# saves logs to /lab/out/, prints "LAB-EXIT=<status>" on the console and powers off.
# Markers on the console: LAB-DOM0-UP (init started), LAB-DOM0-READY (toolstack up),
# LAB-PACKAGE (installed), LAB-SCENARIO-START, LAB-EXIT=N. Kernel command-line knob: lab.debug (set -x).
# Knob (run --env): LAB_XENSTORED="COMMAND" starts COMMAND instead of oxenstored.
export PATH=/lab/in/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8
umask 022
XENV=4.17
XENBIN=/usr/lib/xen-$XENV/bin

mount -t proc proc /proc 2>/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
# devtmpfs has no /dev/fd: bash process substitution and /dev/stdin need these
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
for i in 0:stdin 1:stdout 2:stderr; do [ -e "/dev/${i#*:}" ] || ln -s "/proc/self/fd/${i%%:*}" "/dev/${i#*:}"; done
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -o remount,rw / 2>/dev/null
exec </dev/null >/dev/console 2>&1
case " $(cat /proc/cmdline) " in *" lab.debug "*) set -x ;; esac
hostname xen-lab-dom0
export LAB_IN=/lab/in LAB_OUT=/lab/out LAB_FILES=/lab/in/files LAB_LIB=/lab/in/lib.sh
[ -f /lab/in/env ] && . /lab/in/env   # run's variables and --env NAME=VALUE (knobs below too)
up() { cut -d' ' -f1 /proc/uptime; }
echo "LAB-DOM0-UP uptime=$(up)"

fail_early() { # toolstack did not come up: still report, save logs, power off
  echo "lab-init: $*"
  rc=125
  finish
}

finish() {
  for d in $(xl list 2>/dev/null | awk 'NR > 1 && $2 != 0 { print $2 }'); do xl destroy "$d" >/dev/null 2>&1; done
  mkdir -p /lab/out/logs
  dmesg >/lab/out/logs/dom0-dmesg.txt 2>&1
  xl dmesg >/lab/out/logs/xen-dmesg.txt 2>&1
  cp -r /var/log/xen /lab/out/logs/ 2>/dev/null
  sync
  cd /
  kill -TERM -1 2>/dev/null; sleep 0.5   # everything but init: nothing may keep /lab busy
  umount /lab 2>/dev/null || { sync; mount -o remount,ro /lab 2>/dev/null; }
  echo
  echo "LAB-EXIT=$rc"
  sync
  # Xen halts (not powers off) on a PV dom0's plain shutdown; the host side kills QEMU once it
  # has seen LAB-EXIT. sysrq-o goes through ACPI S5 and does power the machine off.
  echo o >/proc/sysrq-trigger 2>/dev/null
  sleep 3
  busybox poweroff -f
  sleep 30
  exit "$rc"
}

# ---- modules --------------------------------------------------------------------------------
modprobe -a xen-privcmd xen-evtchn xen-gntdev xen-gntalloc 2>&1 | sed 's/^/lab-init: /'
modprobe xenfs 2>&1 | sed 's/^/lab-init: /'   # after privcmd (xenfs uses it)
mkdir -p /proc/xen
mountpoint -q /proc/xen || mount -t xenfs xenfs /proc/xen || fail_early "cannot mount xenfs"
modprobe -a libnvdimm nfit nd_pmem nd_btt dax_pmem device_dax 2>/dev/null
modprobe -a xen-blkback xen-netback loop 2>/dev/null
i=0
while [ $i -lt 50 ] && [ -e /sys/firmware/acpi/tables/NFIT ]; do
  ls /sys/bus/nd/devices/ndbus*/wait_probe >/dev/null 2>&1 && break
  sleep 0.1; i=$((i + 1))
done
for w in /sys/bus/nd/devices/ndbus*/wait_probe; do [ -e "$w" ] && cat "$w" >/dev/null 2>&1; done

# ---- toolstack ------------------------------------------------------------------------------
mkdir -p /run/xen /run/xenstored /var/lib/xen /var/log/xen /var/lib/xenstored
xenstored=""
for x in $XENBIN/oxenstored /usr/sbin/oxenstored $XENBIN/xenstored /usr/sbin/xenstored; do
  [ -x "$x" ] && { xenstored="$x"; break; }
done
[ -n "$xenstored" ] || fail_early "no xenstored"
# in the background with its output in a file: never through a pipe (it keeps it open).
# LAB_XENSTORED (run --env) replaces oxenstored by another command, e.g. the project's own.
if [ -n "${LAB_XENSTORED:-}" ]; then
  echo "lab-init: xenstored: $LAB_XENSTORED"
  bash -c "$LAB_XENSTORED" </dev/null >/var/log/xen/xenstored.out 2>&1 &
else
  "$xenstored" --pid-file=/run/xenstored.pid </dev/null >/var/log/xen/xenstored.out 2>&1 &
fi
i=0
until xenstore-read /local >/dev/null 2>&1 || xenstore-exists / >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -gt 300 ] && fail_early "xenstored did not come up within 30 s"
  sleep 0.1
done
"$XENBIN/xenconsoled" --pid-file=/run/xenconsoled.pid </dev/null >/var/log/xen/xenconsoled.out 2>&1 \
  || fail_early "xenconsoled failed"
"$XENBIN/xen-init-dom0" </dev/null >/var/log/xen/xen-init-dom0.out 2>&1 \
  || { cat /var/log/xen/xen-init-dom0.out; fail_early "xen-init-dom0 failed"; }
echo "LAB-DOM0-READY uptime=$(up)"

# ---- the project's package, installed as an administrator would ------------------------------
mkdir -p /lab/out
if [ -f /lab/in/xen-vnvdimm.deb ]; then
  t0=$(up)
  if dpkg -i /lab/in/xen-vnvdimm.deb >/lab/out/dpkg.log 2>&1; then
    echo "LAB-PACKAGE $(dpkg-query -W -f='${Package}=${Version}' xen-vnvdimm) installed in $(awk -v a="$t0" -v b="$(up)" 'BEGIN{printf "%.1f", b-a}') s"
  else
    cat /lab/out/dpkg.log; fail_early "dpkg -i xen-vnvdimm.deb failed"
  fi
fi

# ---- scenario -------------------------------------------------------------------------------
rc=127
if [ -f /lab/in/scenario.sh ]; then
  echo "LAB-SCENARIO-START uptime=$(up)"
  cd /lab/out
  bash /lab/in/scenario.sh </dev/null
  rc=$?
else
  echo "lab-init: no /lab/in/scenario.sh"
fi
finish

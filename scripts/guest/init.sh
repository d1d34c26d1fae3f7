#!/bin/busybox sh
# /init of the guest harness initramfs (installed by build-initramfs).
# Mounts the basics, loads the nvdimm/dax modules, waits for the nd bus to settle, runs
# /guest-script.sh (put there by scripts/guest/run in a second, appended cpio archive),
# prints "GUEST-EXIT=<status>" on the console and powers off.
# Kernel command line knobs:  guest.shell   start an interactive shell after the script
#                             guest.nomods  do not load any module
#                             guest.debug   set -x for this init
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
exec </dev/console >/dev/console 2>&1

cmdline="$(cat /proc/cmdline)"
has_arg() { case " $cmdline " in *" $1 "*) return 0 ;; esac; return 1; }
has_arg guest.debug && set -x
hostname guest

if ! has_arg guest.nomods; then
  # coldplug: modules (present in this image) matching the devices that exist now; a
  # second pass for devices that the first pass's drivers created (e.g. virtio_pci ->
  # virtio devices -> virtio_blk)
  done_aliases=""
  for pass in 1 2; do
    aliases="$(cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u)"
    [ "$aliases" = "$done_aliases" ] && break
    # shellcheck disable=SC2086
    set -f; [ -n "$aliases" ] && modprobe -q -a $aliases 2>/dev/null; set +f
    done_aliases="$aliases"
  done
  modprobe -q -a libnvdimm nfit nd_pmem nd_btt dax_pmem device_dax 2>/dev/null
  [ -e /sys/bus/platform/devices/e820_pmem ] && modprobe -q nd_e820
  # settle: wait_probe flushes the nd bus's asynchronous probing (what ndctl does)
  i=0
  while [ $i -lt 20 ]; do
    set -- /sys/bus/nd/devices/ndbus*/wait_probe
    [ -e "$1" ] && break
    # no nd bus yet: only worth waiting for when the firmware described NVDIMMs
    [ -e /sys/firmware/acpi/tables/NFIT ] || [ -e /sys/bus/platform/devices/e820_pmem ] || break
    sleep 0.1; i=$((i + 1))
  done
  for w in /sys/bus/nd/devices/ndbus*/wait_probe; do [ -e "$w" ] && cat "$w" >/dev/null 2>&1; done
  # block nodes of the pmem namespaces (devtmpfs is synchronous, this is belt and braces)
  i=0
  while [ $i -lt 20 ]; do
    missing=0
    for b in /sys/block/pmem*; do
      [ -e "$b" ] || continue
      [ -b "/dev/${b##*/}" ] || missing=1
    done
    [ $missing = 0 ] && break
    sleep 0.1; i=$((i + 1))
  done
fi

rc=127
if [ -f /guest-script.sh ]; then
  read -r up _ </proc/uptime
  echo "guest: running /guest-script.sh (uptime ${up}s)"
  cd /tmp
  GUEST=1 /bin/sh /guest-script.sh </dev/null
  rc=$?
  cd /
else
  echo "guest: no /guest-script.sh in the initramfs"
fi
sync
echo
echo "GUEST-EXIT=$rc"
if has_arg guest.shell; then
  echo "guest: interactive shell (exit to power off)"
  setsid cttyhack /bin/sh -l
fi
poweroff -f
sleep 5
echo o >/proc/sysrq-trigger

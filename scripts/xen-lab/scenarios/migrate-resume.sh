#!/bin/bash
# Diagnostic (not in the lab stage): does a guest survive the resume after a refused `xl migrate`,
# with and without vNVDIMMs? (Issue 14: the receiving wrapper refuses a migration after the
# sender's final suspend; once in three lab runs the resumed vNVDIMM guest then triple-faulted
# with the L1 host's state in its vCPU.) Runs in dom0, package installed by dom0-init.sh.
#   plain  a guest with no vNVDIMM whose device model is a wrapper that refuses the same way
#          (exit 1 when started with -incoming under `xl migrate-receive`), else execs QEMU
#   pmem   a guest with one DAX-file vNVDIMM through the package's wrapper
# Each guest prints a heartbeat every second (and reads back what it wrote to its pmem); after
# each refused migrate the scenario waits for 10 new heartbeats. LAB_MIGRATES (default 4) per guest.
#   scripts/xen-lab/run --scenario scripts/xen-lab/scenarios/migrate-resume.sh --nvdimm-size 512M
# Output: "LAB-MIGRATE variant i resumed|fault|gone seconds", "LAB-MIGRATES variant ok=N fault=N".
. "$LAB_LIB"
n="${LAB_MIGRATES:-4}"
export XEN_VNVDIMM_START_TIMEOUT=55
# the receiving side's refusal is what this measures: without the sender's QMP guard (which refuses
# before the suspend, so there is nothing to resume from)
export XEN_VNVDIMM_QMP_GUARD=off
printf '#!/bin/sh\nshift\nexec "$@"\n' >/tmp/local-ssh; chmod +x /tmp/local-ssh
cat >/tmp/refuse-dm <<'W'
#!/bin/sh
case " $* " in *" -incoming "*)
  p=$$; for _ in 1 2 3 4; do
    p=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$p/status); [ "${p:-1}" -gt 1 ] || break
    tr '\0' ' ' </proc/$p/cmdline | grep -q migrate-receive && { echo "refuse-dm: refusing xl migrate" >&2; exit 1; }
  done ;;
esac
exec /usr/libexec/xen-qemu-system-i386 "$@"
W
chmod +x /tmp/refuse-dm

ndctl create-namespace -f -e namespace0.0 -m fsdax --map=mem >/dev/null 2>&1
mkfs.ext4 -q -F -b 4096 /dev/pmem0 && mkdir -p /mnt/pmem && mount -t ext4 -o dax /dev/pmem0 /mnt/pmem
dd if=/dev/urandom of=/mnt/pmem/m.img bs=1M count=32 conv=fsync status=none

cat >beat.sh <<'G'
d=$(ls /dev/pmem* 2>/dev/null | head -n 1)
i=0
while :; do
  i=$((i + 1))
  if [ -n "$d" ]; then
    printf "BEAT-%06d\n" $i | dd of=$d bs=4096 seek=$((i % 1000)) conv=sync,notrunc 2>/dev/null
    dd if=$d bs=4096 skip=$((i % 1000)) count=1 2>/dev/null | grep -aq "BEAT-$(printf %06d $i)" || echo "READBACK-BAD $i"
  fi
  echo "HEARTBEAT $i"
  sleep 1
done
G
lab_guest_initrd beat.sh /tmp/beat.initrd
beats() { tr -d '\r' <"$LAB_OUT/guest-$1.console" 2>/dev/null | grep -c '^HEARTBEAT '; }

run_variant() { # VARIANT
  local v="$1" ok=0 fault=0 i t0 d b0 res
  lab_hvm_cfg "$v" /tmp/beat.initrd 'memory = 256' >"$v.cfg"
  if [ "$v" = pmem ]; then
    echo "vnvdimms = [ 'backend=/mnt/pmem/m.img, label_size=0' ]" >>"$v.cfg"
    xen-vnvdimm tables --config "$v.cfg" | grep -E '^(device_model_override|acpi_firmware) = ' >>"$v.cfg"
  else
    echo 'device_model_override = "/tmp/refuse-dm"' >>"$v.cfg"
  fi
  xl create "$v.cfg" >/dev/null 2>&1 || { echo "LAB-MIGRATE $v 0 create-failed 0"; return; }
  lab_follow "$v"
  lab_wait_console "$v" '^HEARTBEAT 5' 900 || { echo "LAB-MIGRATE $v 0 no-heartbeat 0"; xl destroy "$v"; return; }
  for i in $(seq 1 "$n"); do
    d=$(xl domid "$v"); t0=$(lab_now)
    xl migrate -s /tmp/local-ssh "$v" localhost >"migrate-$v-$i.out" 2>&1 && echo "lab: migrate $v $i succeeded?"
    b0=$(beats "$v")
    res=gone
    while (( $(lab_secs) - ${t0%.*} < 120 )); do
      if xl dmesg | grep -aq "d${d}v[0-9]* Triple fault"; then res=fault; break; fi
      lab_alive "$v" || break
      (( $(beats "$v") >= b0 + 10 )) && { res=resumed; break; }
      sleep 1
    done
    echo "LAB-MIGRATE $v $i $res $(lab_elapsed "$t0")"
    case $res in resumed) ok=$((ok + 1)) ;; *) fault=$((fault + 1)); lab_xen_said "$d" | sed 's/^/lab:   /'; break ;; esac
  done
  tr -d '\r' <"$LAB_OUT/guest-$v.console" | grep -q READBACK-BAD && echo "lab: $v: a read-back failed"
  echo "LAB-MIGRATES $v ok=$ok fault=$fault"
  xl destroy "$v" >/dev/null 2>&1
  lab_check "$v: every refused migrate resumed the guest" test "$fault" = 0
}
for v in ${LAB_MIGRATE_VARIANTS:-plain pmem}; do run_variant "$v"; done
umount /mnt/pmem
exit "$(lab_result)"

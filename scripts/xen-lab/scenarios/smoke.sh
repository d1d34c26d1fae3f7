#!/bin/bash
# Xen lab smoke test (runs in dom0): Xen 4.17 with HVM support is up, dom0 sees the emulated
# host NVDIMM, and an HVM guest (hvmloader + SeaBIOS, direct kernel boot of the guest harness
# kernel + initramfs) boots under `xl create`, runs a tiny script and powers off.
#   scripts/xen-lab/run --scenario scripts/xen-lab/scenarios/smoke.sh
. "$LAB_LIB"

xl info >xl-info.txt 2>&1
grep -E '^(xen_version|xen_caps|virt_caps|nr_cpus|total_memory|free_memory|xen_commandline) ' xl-info.txt
lab_check "xl info: xen_version is 4.17" grep -Eq '^xen_version +: 4\.17' xl-info.txt
lab_check "xl info: hvm in virt_caps or xen_caps" grep -Eq '^(virt_caps|xen_caps) +:.*hvm' xl-info.txt

# the host NVDIMM, label-less: one region, a raw namespace, /dev/pmem0
ndctl list -R -N >ndctl.json 2>&1; cat ndctl.json
lab_check "dom0: /dev/pmem0 exists" test -b /dev/pmem0
res="$(cat /sys/bus/nd/devices/region*/resource 2>/dev/null | head -n 1)"
size=$(( $(cat /sys/block/pmem0/size 2>/dev/null || echo 0) * 512 ))
echo "dom0: region resource $res, /dev/pmem0 $size bytes (expected $LAB_NVDIMM_SIZE)"
lab_check "dom0: nd region at 4 GiB" test "$res" = 0x100000000
lab_check "dom0: /dev/pmem0 has the NVDIMM's size" test "$size" = "$LAB_NVDIMM_SIZE"

# an HVM guest: prints a marker on its serial port, then the harness init powers it off
cat >guest.sh <<'G'
echo "LAB-GUEST-HELLO kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"
dmesg | grep -m1 -o 'Hypervisor detected: .*' || echo "no hypervisor line in dmesg"
dmesg | grep -q 'Hypervisor detected: Xen HVM'
G
lab_guest_initrd guest.sh /tmp/smoke.initrd
lab_hvm_cfg smoke /tmp/smoke.initrd >smoke.cfg
t0=$(lab_now)
if xl create smoke.cfg; then
  lab_follow smoke
  lab_check "guest ran its script" lab_wait_console smoke 'GUEST-EXIT=' 1200
  lab_time xl_create_to_guest_script "$(lab_elapsed "$t0")"
  lab_check "guest printed its marker" grep -aq 'LAB-GUEST-HELLO' "$LAB_OUT/guest-smoke.console"
  lab_check "guest powered off" lab_wait_gone smoke 300
  lab_time xl_create_to_guest_gone "$(lab_elapsed "$t0")"
  lab_check "guest script exited 0 (it runs on Xen HVM)" test "$(lab_guest_exit smoke)" = 0
else
  lab_check "xl create smoke.cfg" false
fi
exit "$(lab_result)"

#!/bin/bash
# Xen lab smoke test (runs in dom0): Xen 4.17 with HVM support is up, dom0 sees the emulated
# host NVDIMM, the project's package is installed and runs without .NET, and an HVM guest (hvmloader + SeaBIOS, direct kernel boot of the guest harness
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

# the project's package, installed by dom0-init.sh with dpkg -i, in a dom0 that has no .NET
lab_check "package: xen-vnvdimm is installed (dpkg)" sh -c "dpkg-query -W -f='\${Status}' xen-vnvdimm | grep -q 'install ok installed'"
lab_check "package: xen-vnvdimm on PATH is /usr/sbin/xen-vnvdimm" test "$(command -v xen-vnvdimm)" = /usr/sbin/xen-vnvdimm
lab_check "package: the device-model wrapper is installed" test -x /usr/lib/xen-vnvdimm/qemu-dm
lab_check "package: the wrapper runs the installed program" grep -q '/usr/sbin/xen-vnvdimm' /usr/lib/xen-vnvdimm/qemu-dm
lab_check "package: dom0 has no dotnet" sh -c '! command -v dotnet'
runtime=$(find /usr /opt /root /lab -name 'libcoreclr.so' -o -name 'libhostfxr.so' -o -name 'System.Private.CoreLib.dll' 2>/dev/null | head -n 3)
echo "package: .NET runtime files in dom0: [${runtime}]"
lab_check "package: no .NET runtime anywhere in dom0" test -z "$runtime"
ldd /usr/sbin/xen-vnvdimm >ldd.txt 2>&1; cat ldd.txt
lab_check "package: every library the executable needs is in dom0" sh -c '! grep -q "not found" ldd.txt'
t0=$(lab_now)
lab_check "package: xen-vnvdimm abi --json runs" sh -c 'xen-vnvdimm abi --json >abi.json && grep -q "\"structs\"" abi.json'
lab_time package_abi_command "$(lab_elapsed "$t0")"
t0=$(lab_now)
lab_check "package: xen-vnvdimm tables --help runs" sh -c 'xen-vnvdimm tables --help >tables-help.txt && grep -q -- "--config" tables-help.txt'
lab_time package_help_command "$(lab_elapsed "$t0")"
lab_check "package: postinst made /run/xen-vnvdimm and /var/lib/xen-vnvdimm" test -d /run/xen-vnvdimm -a -d /var/lib/xen-vnvdimm

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

#!/bin/bash
# The proven hand test, automated (runs in dom0): our NFIT + SSDT (xen-vnvdimm tables --platform
# xen, built on the host by acpi-firmware.host) go to an HVM guest with acpi_firmware=, and
# iomem= maps the host NVDIMM's frames at the same guest frames (4 GiB, libxl's
# XEN_DOMCTL_memory_mapping). dom0 writes a pattern to /dev/pmem0 first; the guest must see
# /dev/pmem0 at 4 GiB with the NVDIMM's size, read the pattern, and write a token at 1 MiB that
# dom0 (here) and the host (acpi-firmware.host verify: the outer backing file) then find.
#   scripts/xen-lab/run --scenario scripts/xen-lab/scenarios/acpi-firmware.sh
. "$LAB_LIB"
: "${LAB_TOKEN:?no LAB_TOKEN (acpi-firmware.host prepare did not run)}"
fw="$LAB_FILES/tables/acpi_firmware.bin"
lab_check "tables present ($fw)" test -s "$fw"
[ -f "$LAB_FILES/tables/layout.json" ] && { cat "$LAB_FILES/tables/layout.json"; echo; }

lab_check "dom0: /dev/pmem0 exists" test -b /dev/pmem0
res="$(cat /sys/bus/nd/devices/region*/resource 2>/dev/null | head -n 1)"
size=$(( $(cat /sys/block/pmem0/size 2>/dev/null || echo 0) * 512 ))
echo "dom0: region resource $res, /dev/pmem0 $size bytes"
lab_check "dom0: NVDIMM at 4 GiB, $LAB_NVDIMM_SIZE bytes" test "$res" = 0x100000000 -a "$size" = "$LAB_NVDIMM_SIZE"

# dom0's pattern at offset 0 (one 4 KiB block, zero padded)
printf 'XENLAB-DOM0-PATTERN-%s\n' "$LAB_TOKEN" | dd of=/dev/pmem0 bs=4096 conv=sync,notrunc status=none
sync; echo 3 >/proc/sys/vm/drop_caches
mfn=$(printf '%x' $((res >> 12))); nr=$(printf '%x' $((size >> 12)))
iomem="iomem = [ \"$mfn,$nr@$mfn\" ]"
echo "guest config: acpi_firmware=\"$fw\", $iomem"

cat >guest.sh <<G
set -u
echo "LAB-GUEST-START uptime=\$(cut -d' ' -f1 /proc/uptime)"
ndctl list -R -N
grep -i 'persistent' /proc/iomem
test -b /dev/pmem0 || { echo "guest: no /dev/pmem0"; exit 1; }
r="\$(cat /sys/bus/nd/devices/region*/resource | head -n 1)"
s=\$(( \$(cat /sys/block/pmem0/size) * 512 ))
echo "LAB-GUEST-PMEM region=\$r size=\$s uptime=\$(cut -d' ' -f1 /proc/uptime)"
dd if=/dev/pmem0 bs=4096 count=1 2>/dev/null | grep -a -o 'XENLAB-DOM0-PATTERN-[0-9a-f]*' | sed 's/^/LAB-GUEST-READ=/'
printf 'XENLAB-GUEST-WROTE-%s\n' "$LAB_TOKEN" | dd of=/dev/pmem0 bs=4096 seek=256 conv=sync,notrunc 2>/dev/null
sync
echo "LAB-GUEST-WROTE"
test "\$r" = 0x100000000 && test "\$s" = "$LAB_NVDIMM_SIZE"
G
lab_guest_initrd guest.sh /tmp/acpifw.initrd
lab_hvm_cfg acpifw /tmp/acpifw.initrd "acpi_firmware = \"$fw\"" "$iomem" >acpifw.cfg
t0=$(lab_now)
if xl create acpifw.cfg; then
  lab_follow acpifw
  lab_check "guest sees /dev/pmem0" lab_wait_console acpifw 'LAB-GUEST-PMEM|GUEST-EXIT=' 1200
  lab_time xl_create_to_guest_pmem "$(lab_elapsed "$t0")"
  lab_check "guest powered off" lab_wait_gone acpifw 300
  c="$(tr -d '\r' <"$LAB_OUT/guest-acpifw.console")"
  lab_check "guest: /dev/pmem0 at 4 GiB with $LAB_NVDIMM_SIZE bytes" \
    grep -q "LAB-GUEST-PMEM region=0x100000000 size=$LAB_NVDIMM_SIZE " <<<"$c"
  lab_check "guest read dom0's pattern" grep -q "LAB-GUEST-READ=XENLAB-DOM0-PATTERN-$LAB_TOKEN" <<<"$c"
  lab_check "guest wrote its token" grep -q "LAB-GUEST-WROTE" <<<"$c"
  lab_check "guest script exited 0" test "$(lab_guest_exit acpifw)" = 0
  echo 3 >/proc/sys/vm/drop_caches
  lab_check "dom0 reads the guest's token at 1 MiB of /dev/pmem0" \
    sh -c "dd if=/dev/pmem0 bs=4096 skip=256 count=1 2>/dev/null | grep -aq XENLAB-GUEST-WROTE-$LAB_TOKEN"
else
  lab_check "xl create acpifw.cfg" false
fi
exit "$(lab_result)"

#!/bin/sh
# test-acpi-iasl.sh - check the generated ACPI tables with ACPICA's own tools.
#
# Usage: test-acpi-iasl.sh ACPI-DUMP OSC-TEST.asl   (TAP output)
# iasl -d must disassemble every table without errors or warnings and show
# the expected contents; the disassembled DSDT must recompile; acpiexec must
# evaluate \_S5, \_SB.PCI0._CRS and \_SB.PCI0._OSC with the expected results.
# Fails when acpica-tools is missing: make deps installs it.
set -u
dump=$1
osc_asl=$2

if ! command -v iasl >/dev/null 2>&1 || ! command -v acpiexec >/dev/null 2>&1; then
	echo "1..1"
	echo "not ok 1 - iasl/acpiexec not installed (run make deps, or apt-get install acpica-tools)"
	exit 1
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=0
failed=0
ok() { # ok CONDITION-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
run() { timeout 60 "$@" </dev/null; }
has() { grep -q -- "$2" "$1"; }

echo "1..24"
for cpus in 2 255; do
	d=$dir/$cpus
	mkdir -p "$d"
	run "$dump" "$d" "$cpus" >"$d/dump.log" 2>&1
	ok $? "ncpus=$cpus: acpi-dump wrote the tables"
	rc=0
	for t in dsdt facp apic mcfg xsdt; do
		(cd "$d" && run iasl -d "$t.dat" >"$t.log" 2>&1) || rc=1
		grep -Eqi 'error|warning' "$d/$t.log" && rc=1
		[ -s "$d/$t.dsl" ] || rc=1
	done
	[ $rc -eq 0 ] || cat "$d"/*.log | sed 's/^/# /'
	ok $rc "ncpus=$cpus: iasl -d decodes DSDT, FACP, APIC, MCFG, XSDT without errors or warnings"
	[ "$(grep -c 'Subtable Type : 00 \[Processor Local APIC\]' "$d/apic.dsl")" -eq "$cpus" ]
	ok $? "ncpus=$cpus: MADT lists $cpus local APICs"
done

d=$dir/2
has "$d/dsdt.dsl" 'Device (PCI0)' && has "$d/dsdt.dsl" 'Device (COM1)' && has "$d/dsdt.dsl" 'Device (MRES)'
ok $? "DSDT has devices PCI0, COM1, MRES"
has "$d/dsdt.dsl" 'EisaId ("PNP0A08")' && has "$d/dsdt.dsl" 'EisaId ("PNP0A03")' &&
	has "$d/dsdt.dsl" 'EisaId ("PNP0501")' && has "$d/dsdt.dsl" 'EisaId ("PNP0C02")'
ok $? "DSDT ids decode as EisaId PNP0A08, PNP0A03, PNP0501, PNP0C02"
[ "$(grep -c 'Name (_CRS' "$d/dsdt.dsl")" -eq 3 ]
ok $? "DSDT has three _CRS"
has "$d/dsdt.dsl" 'WordBusNumber (ResourceProducer' && has "$d/dsdt.dsl" 'WordIO (ResourceProducer' &&
	has "$d/dsdt.dsl" 'DWordMemory (ResourceProducer' && has "$d/dsdt.dsl" 'QWordMemory (ResourceProducer' &&
	has "$d/dsdt.dsl" '0x0CF8,'
ok $? "PCI0 _CRS: bus range, 0xCF8 ports, I/O, 32-bit and 64-bit windows"
has "$d/dsdt.dsl" 'IRQNoFlags' && has "$d/dsdt.dsl" '0x03F8,'
ok $? "COM1 _CRS: 0x3F8 and IRQNoFlags"
has "$d/dsdt.dsl" 'Method (_OSC, 4, Serialized)' &&
	has "$d/dsdt.dsl" 'ToUUID ("33db4d5b-1ff7-401c-9657-7441c03dd766")'
ok $? "PCI0 _OSC checks the PCI host bridge UUID"
has "$d/dsdt.dsl" 'Name (_S5, Package (0x04)'
ok $? "DSDT has the _S5_ package"
has "$d/facp.dsl" 'Hardware Reduced (V5) : 1' && has "$d/facp.dsl" 'Reset Register Supported (V2) : 1' &&
	has "$d/facp.dsl" '8042 Present on ports 60/64 (V2) : 0' && has "$d/facp.dsl" 'VGA Not Present (V4) : 1'
ok $? "FADT: hardware reduced, reset register, no 8042, no VGA"
has "$d/facp.dsl" 'Address : 0000000000000600' && has "$d/facp.dsl" 'Address : 0000000000000601' &&
	has "$d/facp.dsl" 'Address : 0000000000000602' && has "$d/facp.dsl" 'Space ID : 01 \[SystemIO\]'
ok $? "FADT: sleep control/status and reset registers are SystemIO ports"
has "$d/apic.dsl" 'Subtable Type : 01 \[I/O APIC\]' && has "$d/apic.dsl" 'Subtable Type : 02 \[Interrupt Source Override\]'
ok $? "MADT has the IOAPIC and the interrupt source override"
has "$d/mcfg.dsl" 'Base Address : 00000000E0000000' && has "$d/mcfg.dsl" 'End Bus Number : FF'
ok $? "MCFG: ECAM at 0xE0000000, buses 0-255"

cp "$d/dsdt.dsl" "$dir/re.dsl"
(cd "$dir" && run iasl re.dsl >re.log 2>&1) && has "$dir/re.log" ' 0 Errors'
ok $? "the disassembled DSDT recompiles without errors"

mkdir -p "$dir/nocom1"
run "$dump" "$dir/nocom1" 1 nocom1 >/dev/null 2>&1 && (cd "$dir/nocom1" && run iasl -d dsdt.dat >/dev/null 2>&1) &&
	! has "$dir/nocom1/dsdt.dsl" COM1 && has "$dir/nocom1/dsdt.dsl" 'Device (PCI0)'
ok $? "without com1 the DSDT has no COM1"

cp "$osc_asl" "$dir/osc.asl"
(cd "$dir" && run iasl osc.asl >osc.log 2>&1)
ok $? "the _OSC test caller compiles"
(cd "$dir" && run acpiexec -b 'evaluate \_S5; evaluate \_SB.PCI0._CRS; evaluate TOSC; evaluate TBAD' \
	"$d/dsdt.dat" osc.aml >exec.log 2>&1)
ok $? "acpiexec loads the DSDT and evaluates"
sed -n '/Evaluating \\_S5/,/Evaluating/p' "$dir/exec.log" | grep -q '\[Integer\] = 0000000000000005'
ok $? "acpiexec: \\_S5 SLP_TYPa is 5"
grep -A2 'Evaluation of \\TOSC' "$dir/exec.log" | grep -q '0000: 01 00 00 00 1F 00 00 00 BF 00 00 00'
ok $? "acpiexec: _OSC with the PCI UUID grants every requested control"
grep -A2 'Evaluation of \\TBAD' "$dir/exec.log" | grep -q '0000: 04 00 00 00'
ok $? "acpiexec: _OSC with another UUID reports 'unrecognized UUID'"
[ $failed -eq 0 ] || sed 's/^/# /' "$dir/exec.log"
exit $((failed > 0))

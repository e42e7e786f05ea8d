/* acpi-osc-test.asl - calls the generated \_SB.PCI0._OSC for test-acpi-iasl.sh.
 * TOSC asks with the PCI host bridge UUID (query, then all controls); TBAD
 * with another UUID, which _OSC must refuse with status bit 2. */
DefinitionBlock ("", "SSDT", 2, "KVRUN ", "OSCTEST ", 1)
{
    External (\_SB.PCI0._OSC, MethodObj)
    Method (TOSC, 0, Serialized)
    {
        Name (CAPS, Buffer (12) { 0x01, 0, 0, 0, 0x1f, 0, 0, 0, 0xbf, 0, 0, 0 })
        Return (\_SB.PCI0._OSC (ToUUID ("33db4d5b-1ff7-401c-9657-7441c03dd766"), 1, 3, CAPS))
    }
    Method (TBAD, 0, Serialized)
    {
        Name (CAPS, Buffer (12) { 0x00, 0, 0, 0, 0x1f, 0, 0, 0, 0xbf, 0, 0, 0 })
        Return (\_SB.PCI0._OSC (ToUUID ("0811b06e-4a27-44f9-8d60-3cbbc22e7b48"), 1, 3, CAPS))
    }
}

namespace XenVnvdimm.DeviceModel.Xen.Interrupts;

/// <summary>
/// An interrupt line into the guest for the hot-add event device (a GED on x86). Pulsed as proven in the
/// Xen lab: assert, ~1 ms, deassert. An edge sent before the guest has a handler is lost, so the guest
/// side must re-read state at probe anyway.
/// </summary>
internal sealed class GuestIrqLine
{
    private readonly Action<bool> _setLevel;

    private GuestIrqLine(string name, Action<bool> setLevel)
    {
        Name = name;
        _setLevel = setLevel;
    }

    /// <summary>Description for logs.</summary>
    public string Name { get; }

    /// <summary>ISA IRQ (0-15) through XEN_DMOP_set_isa_irq_level (x86).</summary>
    public static GuestIrqLine Isa(DeviceModelOps dm, byte isaIrq)
    {
        if (isaIrq > 15)
            throw new ArgumentOutOfRangeException(nameof(isaIrq), "ISA IRQs are 0-15");
        return new GuestIrqLine($"ISA IRQ {isaIrq}", level => dm.SetIsaIrqLevel(isaIrq, level));
    }

    /// <summary>An SPI through XEN_DMOP_set_irq_level (Arm).</summary>
    public static GuestIrqLine Spi(DeviceModelOps dm, uint irq) => new($"IRQ {irq}", level => dm.SetIrqLevel(irq, level));

    /// <summary>Raises one edge: assert, hold for <paramref name="width"/>, deassert (deasserted even on failure).</summary>
    public void Pulse(TimeSpan width)
    {
        _setLevel(true);
        try
        {
            Thread.Sleep(width);
        }
        finally
        {
            _setLevel(false);
        }
    }
}

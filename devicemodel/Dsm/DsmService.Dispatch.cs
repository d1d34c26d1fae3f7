using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.DeviceModel.Dsm;

public sealed partial class DsmService
{
    private DsmAnswer Dispatch(in MailboxRequest r, Span<byte> output)
    {
        if (r.Command is < P.CommandDsm or > P.CommandReadFit)
            return DsmAnswer.StatusOnly(output, P.StatusNotSupported);
        // The AML never sends more than the data area; a guest that claims more is malformed.
        if (r.InputOverflows)
            return DsmAnswer.StatusOnly(output, P.StatusInvalidInput);

        return r.Command switch
        {
            P.CommandDsm => Dsm(r, output),
            P.CommandLabelInfo => LabelInfo(r.Handle, r.Revision, output),
            P.CommandLabelRead => LabelRead(r.Handle, r.Revision, r.Input, output),
            P.CommandLabelWrite => LabelWrite(r.Handle, r.Revision, r.Input, output),
            _ => ReadFit(r, output),
        };
    }

    /// <summary>
    /// _DSM pass-through. The output is the Buffer the _DSM returns verbatim: a bitmap for
    /// function 0, otherwise {u32 status, payload}.
    /// </summary>
    private DsmAnswer Dsm(in MailboxRequest r, Span<byte> output)
    {
        if (r.Handle == 0)
        {
            // Root: no ARS or other bus function is implemented, so only function 0 answers.
            return r.Function == 0
                ? DsmAnswer.Bitmap(output, 0)
                : DsmAnswer.StatusOnly(output, P.StatusNotSupported);
        }

        var device = Device(r.Handle);
        if (r.Function == 0)
        {
            bool labels = device?.Labels is not null && r.Family == P.FamilyIntel && r.Revision == DsmLimits.Revision;
            return DsmAnswer.Bitmap(output, labels ? DsmLimits.IntelLabelFunctions : (byte)0);
        }
        if (device is null)
            return DsmAnswer.StatusOnly(output, P.StatusNoSuchDevice);
        if (r.Family != P.FamilyIntel)
            return DsmAnswer.StatusOnly(output, P.StatusNotSupported);

        return r.Function switch
        {
            DsmLimits.IntelGetConfigSize => LabelInfo(r.Handle, r.Revision, output),
            DsmLimits.IntelGetConfigData => LabelRead(r.Handle, r.Revision, r.Input, output),
            DsmLimits.IntelSetConfigData => LabelWrite(r.Handle, r.Revision, r.Input, output),
            _ => DsmAnswer.StatusOnly(output, P.StatusNotSupported),
        };
    }

    private DsmDevice? Device(uint handle) => _devices.GetValueOrDefault(handle);
}

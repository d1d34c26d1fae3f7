using System.Buffers.Binary;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.DeviceModel.Dsm;

public sealed partial class DsmService
{
    /// <summary>
    /// Takes over a mailbox page a previous companion served (re-attach after a crash) without
    /// disturbing the guest: a page that was never signed is published; a request the guest left
    /// pending is answered now, since the guest is waiting for it; anything else stays as it is.
    /// </summary>
    /// <returns>True when a pending request was answered.</returns>
    /// <exception cref="ArgumentException"><paramref name="page"/> is shorter than a mailbox page.</exception>
    public bool Resume(Span<byte> page)
    {
        CheckPage(page);
        if (BinaryPrimitives.ReadUInt32LittleEndian(page[P.SignatureOffset..]) != P.Signature)
        {
            Publish(page);
            return false;
        }
        return HandleDoorbell(page);
    }
}

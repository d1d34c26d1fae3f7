using System.Buffers.Binary;
using XenVnvdimm.DeviceModel.Xen.Sim;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.Tests.Integration;

/// <summary>
/// The guest's side of the DSM mailbox on the simulated hypervisor: a vCPU writes a request into the
/// mailbox page (guest RAM) and rings the doorbell port, as the guest's AML does; under Xen the
/// companion answers before the vCPU resumes.
/// </summary>
internal sealed class SimMailbox(SimHypervisor sim, SimDomain domain, ulong mailboxGpa = 0xFE000000, ushort doorbell = 0x0A18)
{
    private readonly SimVcpu _vcpu = sim.Vcpu(domain, 1);

    private ulong Gfn => mailboxGpa >> 12;

    /// <summary>One mailbox call: the answer's data (status first).</summary>
    public byte[] Call(uint command, uint handle, uint function, uint family, byte[] input)
    {
        var page = domain.RamPage(Gfn);
        Assert.Equal(P.Signature, BinaryPrimitives.ReadUInt32LittleEndian(page));
        BinaryPrimitives.WriteUInt32LittleEndian(page[P.CommandOffset..], command);
        BinaryPrimitives.WriteUInt32LittleEndian(page[P.HandleOffset..], handle);
        BinaryPrimitives.WriteUInt32LittleEndian(page[P.RevisionOffset..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(page[P.FunctionOffset..], function);
        BinaryPrimitives.WriteUInt32LittleEndian(page[P.FamilyOffset..], family);
        BinaryPrimitives.WriteUInt32LittleEndian(page[P.InputLengthOffset..], (uint)input.Length);
        input.CopyTo(page[P.DataOffset..]);
        BinaryPrimitives.WriteUInt32LittleEndian(page[P.StateOffset..], P.StateRequest);
        _vcpu.Out(doorbell, 1, 1);
        page = domain.RamPage(Gfn);
        Assert.Equal(P.StateResponse, BinaryPrimitives.ReadUInt32LittleEndian(page[P.StateOffset..]));
        int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(page[P.OutputLengthOffset..]);
        var answer = page.Slice(P.DataOffset, length).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(page[P.StateOffset..], P.StateIdle);
        return answer;
    }

    /// <summary>The whole FIT, read chunk by chunk as the AML's _FIT does.</summary>
    public byte[] ReadFit()
    {
        var fit = new List<byte>();
        while (true)
        {
            var input = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(input, (uint)fit.Count);
            var chunk = Call(P.CommandReadFit, 0, 0, P.FamilyRoot, input);
            Assert.Equal(P.StatusSuccess, BinaryPrimitives.ReadUInt32LittleEndian(chunk));
            if (chunk.Length == 4)
                return [.. fit];
            fit.AddRange(chunk.AsSpan(4).ToArray());
        }
    }
}

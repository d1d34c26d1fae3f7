using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using P = XenVnvdimm.Acpi.Ssdt.MailboxProtocol;

namespace XenVnvdimm.DeviceModel.Dsm;

/// <summary>Ordered access to the mailbox page's state word, which the guest polls.</summary>
internal static class MailboxState
{
    /// <summary>Reads the state with acquire semantics: the request fields are read after it.</summary>
    public static uint Read(ReadOnlySpan<byte> page)
        => FromLittleEndian(Volatile.Read(ref Unsafe.As<byte, uint>(ref MemoryMarshal.GetReference(page.Slice(P.StateOffset, 4)))));

    /// <summary>
    /// Writes the state with release semantics: every earlier store (output data, output length)
    /// is visible to the guest before it sees the new state.
    /// </summary>
    public static void Write(Span<byte> page, uint state)
        => Volatile.Write(ref Unsafe.As<byte, uint>(ref MemoryMarshal.GetReference(page.Slice(P.StateOffset, 4))), ToLittleEndian(state));

    /// <summary>Writes the signature word with release semantics (after the state it vouches for).</summary>
    public static void WriteSignature(Span<byte> page, uint signature)
        => Volatile.Write(ref Unsafe.As<byte, uint>(ref MemoryMarshal.GetReference(page.Slice(P.SignatureOffset, 4))), ToLittleEndian(signature));

    private static uint FromLittleEndian(uint v) => BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);

    private static uint ToLittleEndian(uint v) => BitConverter.IsLittleEndian ? v : BinaryPrimitives.ReverseEndianness(v);
}

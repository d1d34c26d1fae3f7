using System.Globalization;
using System.Text;
using XenVnvdimm.XenStore.Wire;

namespace XenVnvdimm.XenStore.Server;

/// <summary>
/// The DIRECTORY_PART reply: the node's generation, then whole child names (NUL-terminated)
/// from byte <c>offset</c> of the full list, as many as fit; the chunk that reaches the end
/// carries one more NUL so the client knows it is complete.
/// </summary>
internal static class DirectoryChunk
{
    public static byte[] Build(Node node, int offset)
    {
        var output = new MemoryStream();
        var generation = Encoding.ASCII.GetBytes(node.Generation.ToString(CultureInfo.InvariantCulture));
        output.Write(generation);
        output.WriteByte(0);
        int budget = XsLimits.PayloadMax - (int)output.Length - 1; // keep room for the end marker
        int position = 0;
        bool complete = true;
        foreach (var name in node.Children)
        {
            int size = Encoding.UTF8.GetByteCount(name) + 1;
            if (position >= offset)
            {
                if (size > budget)
                {
                    complete = false;
                    break;
                }
                output.Write(Encoding.UTF8.GetBytes(name));
                output.WriteByte(0);
                budget -= size;
            }
            position += size;
        }
        if (complete)
            output.WriteByte(0);
        return output.ToArray();
    }
}

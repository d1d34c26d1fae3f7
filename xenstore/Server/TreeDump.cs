using System.Text;

namespace XenVnvdimm.XenStore.Server;

/// <summary>
/// Writes the tree as text, one node per line, parents first:
/// <c>/path = "value" (n0 r5)</c>; bytes outside printable ASCII appear as <c>\xNN</c>.
/// </summary>
internal static class TreeDump
{
    public static void Write(NodeTree tree, TextWriter output) => Write(tree, "/", output);

    public static void WriteFile(NodeTree tree, string path)
    {
        // Write then rename, so a reader never sees half a dump.
        string temporary = path + ".tmp";
        using (var writer = new StreamWriter(temporary, append: false, new UTF8Encoding(false)))
            Write(tree, writer);
        File.Move(temporary, path, overwrite: true);
    }

    private static void Write(NodeTree tree, string path, TextWriter output)
    {
        var node = tree.Get(path);
        if (node is null)
            return;
        output.Write(path);
        output.Write(" = \"");
        output.Write(Escape(node.Value));
        output.Write("\" (");
        output.Write(node.Permissions.ToString());
        output.WriteLine(")");
        foreach (var name in node.Children)
            Write(tree, path == "/" ? "/" + name : path + "/" + name, output);
    }

    public static string Escape(ReadOnlySpan<byte> value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (byte b in value)
        {
            if (b == (byte)'\\')
                sb.Append(@"\\");
            else if (b is >= 0x20 and < 0x7f && b != (byte)'"')
                sb.Append((char)b);
            else
                sb.Append(@"\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}

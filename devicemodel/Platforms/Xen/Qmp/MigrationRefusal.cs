using System.Text;
using System.Text.Json;

namespace XenVnvdimm.DeviceModel.Platforms.Xen.Qmp;

/// <summary>
/// Which QMP commands the guard answers itself. A live migration (<c>xl migrate</c>, <c>xl remus</c>)
/// starts with libxl asking QEMU for its dirty log (<c>xen-set-global-dirty-log</c> with enable
/// true), before any page is sent and long before the guest is suspended. <c>xl save</c> sends the
/// same command (libxc's HVM save setup always does), so the command alone does not tell them
/// apart: the process on the other end of the socket does.
/// </summary>
internal static class MigrationRefusal
{
    /// <summary>The command libxl sends first when a save or migration of an HVM guest starts.</summary>
    public const string DirtyLogCommand = "xen-set-global-dirty-log";

    /// <summary>
    /// When <paramref name="command"/> (one whole QMP object) asks for QEMU's dirty log, returns its
    /// "id" (raw JSON, or null when it has none) and true; otherwise false.
    /// </summary>
    public static bool IsDirtyLogEnable(ReadOnlySpan<byte> command, out string? id)
    {
        id = null;
        try
        {
            using var doc = JsonDocument.Parse(command.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("execute", out var execute) || execute.ValueKind != JsonValueKind.String
                || execute.GetString() != DirtyLogCommand)
                return false;
            if (!root.TryGetProperty("arguments", out var arguments) || arguments.ValueKind != JsonValueKind.Object
                || !arguments.TryGetProperty("enable", out var enable) || enable.ValueKind != JsonValueKind.True)
                return false;
            if (root.TryGetProperty("id", out var idElement))
                id = idElement.GetRawText();
            return true;
        }
        catch (JsonException)
        {
            return false; // not ours to judge: QEMU answers it
        }
    }

    /// <summary>
    /// True when the toolstack command line <paramref name="argv"/> is a live migration: xl's
    /// <c>migrate</c> or <c>remus</c> subcommand (the first argument that is not an option).
    /// </summary>
    public static bool IsLiveMigration(IReadOnlyList<string> argv)
    {
        if (argv.Count < 2 || Path.GetFileName(argv[0]) != "xl")
            return false;
        foreach (string a in argv.Skip(1))
        {
            if (a.StartsWith('-'))
                continue;
            return a is "migrate" or "remus";
        }
        return false;
    }

    /// <summary>The error QEMU would send, with the command's id, naming why.</summary>
    public static byte[] ErrorReply(string? id, string reason)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("class", "GenericError");
            w.WriteString("desc", reason);
            w.WriteEndObject();
            if (id is not null)
            {
                w.WritePropertyName("id");
                w.WriteRawValue(id);
            }
            w.WriteEndObject();
        }
        buffer.Write("\r\n"u8);
        return buffer.ToArray();
    }

    /// <summary>The reason given to xl (libxl logs it) for guest <paramref name="domid"/>.</summary>
    public static string Reason(ushort domid) =>
        $"xen-vnvdimm: live migration of domain {domid} refused before the guest was suspended: its vNVDIMMs are files on this host's pmem, which a migration does not copy (to move it: xl save, copy the backing files, xl restore)";

    /// <summary>Reads a process's command line from /proc (empty when it is gone or unreadable).</summary>
    public static IReadOnlyList<string> CommandLineOf(int pid)
    {
        try
        {
            byte[] raw = File.ReadAllBytes($"/proc/{pid}/cmdline");
            return Encoding.UTF8.GetString(raw).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }
}

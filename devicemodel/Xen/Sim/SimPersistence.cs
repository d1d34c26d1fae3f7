using System.Text.Json;
using System.Text.Json.Serialization;

namespace XenVnvdimm.DeviceModel.Xen.Sim;

/// <summary>
/// Files of a persisted simulated hypervisor: <c>hypervisor.json</c> (a <see cref="SimSnapshot"/>,
/// replaced atomically after every hypercall and DM op) and one RAM file per domain. A real Xen outlives
/// its device models; a persisted simulator does the same, so a companion killed with SIGKILL leaves a
/// simulated domain the next companion can re-attach to, and a test can read what teardown left.
/// </summary>
internal static class SimPersistence
{
    /// <summary>The snapshot's file name inside the directory.</summary>
    public const string SnapshotFile = "hypervisor.json";

    /// <summary>The RAM file of <paramref name="domid"/> in <paramref name="directory"/>.</summary>
    public static string RamFile(string directory, ushort domid) => Path.Combine(directory, $"ram-d{domid}");

    /// <summary>Writes <paramref name="snapshot"/> through a temporary file and a rename: a kill never leaves half a file.</summary>
    public static void Save(string directory, SimSnapshot snapshot)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, SnapshotFile), tmp = path + ".tmp";
        File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(snapshot, SimSnapshotJson.Default.SimSnapshot));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The snapshot in <paramref name="directory"/>, or null when there is none.</summary>
    /// <exception cref="InvalidDataException">The file is not a snapshot.</exception>
    public static SimSnapshot? Load(string directory)
    {
        string path = Path.Combine(directory, SnapshotFile);
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), SimSnapshotJson.Default.SimSnapshot)
                ?? throw new InvalidDataException($"{path} holds no simulated hypervisor");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a simulated hypervisor snapshot: {e.Message}", e);
        }
    }
}

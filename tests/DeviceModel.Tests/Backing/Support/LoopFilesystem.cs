namespace XenVnvdimm.Tests.Backing.Support;

/// <summary>
/// A filesystem image made by the test, attached to a loop device (optionally partitioned) and
/// mounted; everything is undone on dispose, even after a failure half-way through setup.
/// </summary>
internal sealed class LoopFilesystem : IDisposable
{
    private readonly string _dir;
    private string? _loop;
    private bool _mounted;
    private string? _createdNode;

    public string Image { get; }
    public string MountPoint { get; }
    public string Device { get; private set; } = "";

    /// <summary>Byte offset of the filesystem's partition on the loop disk (0 when unpartitioned).</summary>
    public ulong PartitionStart { get; private set; }

    /// <param name="fsType">ext4 or xfs.</param>
    /// <param name="sizeMiB">Image size.</param>
    /// <param name="blockSize">Filesystem block size.</param>
    /// <param name="partitionStartSector">When set, the image gets an MBR with one partition starting at this 512-byte sector.</param>
    /// <param name="mkfsExtra">Extra mkfs arguments.</param>
    public LoopFilesystem(string fsType, int sizeMiB, int blockSize = 4096, ulong? partitionStartSector = null, params string[] mkfsExtra)
    {
        _dir = Directory.CreateTempSubdirectory("xvn-backing-").FullName;
        Image = Path.Combine(_dir, "image");
        MountPoint = Path.Combine(_dir, "mnt");
        Directory.CreateDirectory(MountPoint);
        try
        {
            using (var f = File.Create(Image))
                f.SetLength((long)sizeMiB << 20);
            if (partitionStartSector is { } start)
            {
                RunWithInput("sfdisk", $"start={start}, type=83\n", "--quiet", "--label", "dos", Image);
            }
            _loop = Shell.Run("losetup", "--find", "--show", "--partscan", Image).Trim();
            Device = _loop;
            if (partitionStartSector is not null)
            {
                (Device, bool created) = Shell.PartitionNode(_loop);
                _createdNode = created ? Device : null;
                // The peer for the partition offset is sfdisk's own reading of the table.
                var json = System.Text.Json.JsonDocument.Parse(Shell.Run("sfdisk", "--json", Image));
                PartitionStart = json.RootElement.GetProperty("partitiontable").GetProperty("partitions")[0].GetProperty("start").GetUInt64() * 512;
            }
            string[] mkfs = fsType == "xfs"
                ? ["-q", "-f", "-b", $"size={blockSize}", .. mkfsExtra, Device]
                : ["-q", "-F", "-b", blockSize.ToString(System.Globalization.CultureInfo.InvariantCulture), .. mkfsExtra, Device];
            Shell.Run($"mkfs.{fsType}", mkfs);
            Shell.Run("mount", "-t", fsType, Device, MountPoint);
            _mounted = true;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string PathOf(string name) => Path.Combine(MountPoint, name);

    private static void RunWithInput(string tool, string input, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(Shell.Require(tool)) { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.StandardInput.Write(input);
        p.StandardInput.Close();
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{tool} failed: {err}");
    }

    public void Dispose()
    {
        if (_mounted)
        {
            if (Shell.Run("umount", [MountPoint], check: false).Code != 0)
                Shell.Run("umount", ["-l", MountPoint], check: false);
            _mounted = false;
        }
        if (_createdNode is not null)
        {
            File.Delete(_createdNode);
            _createdNode = null;
        }
        if (_loop is not null)
        {
            Shell.Run("partx", ["-d", _loop], check: false);
            Shell.Run("losetup", ["-d", _loop], check: false);
            _loop = null;
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

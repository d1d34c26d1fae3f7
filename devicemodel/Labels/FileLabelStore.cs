using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XenVnvdimm.DeviceModel.Files;

namespace XenVnvdimm.DeviceModel.Labels;

/// <summary>
/// A vNVDIMM's label area kept in one file on dom0, with crash-safe, durable writes.
/// <para>
/// Files, all beside the label file <c>L</c>: <c>L.lock</c> carries an exclusive lock for the
/// store's lifetime, so a second companion for the same label fails at open with a clear error;
/// <c>L.journal</c> holds one write-ahead record (see <see cref="LabelJournal"/>).
/// </para>
/// <para>
/// A write: (1) the record {offset, length, data, SHA-256} goes to the journal, fdatasync;
/// (2) the data goes to the label file in place, fdatasync; only then does <see cref="Write"/>
/// return, so the guest is told success only after durability. A crash before (1) is durable
/// leaves the label untouched (and a torn record that fails its hash); a crash after it is
/// repaired at the next open by replaying the record. Either way each write reads back as all old
/// or all new. The journal is never cleared: it only ever holds the last write begun, whose
/// replay after a completed write changes nothing — one fsync saved per write.
/// </para>
/// <para>
/// Every file is opened through <see cref="SafeFile"/>: never through a symbolic link, new ones
/// exclusively with mode 0600, in a directory owned by root and writable by nobody else (created
/// 0700 when missing).
/// </para>
/// <para>
/// A missing label file is created zero-filled at the configured size (through a temporary file,
/// fsync, rename and directory fsync, so a crash never leaves a short file); an existing one must
/// have exactly that size.
/// </para>
/// </summary>
public sealed class FileLabelStore : ILabelStore, IDisposable
{
    private readonly Lock _gate = new();
    private readonly LabelFile _lock;
    private readonly LabelFile _label;
    private readonly LabelFile _journal;
    private byte[] _record = [];
    private bool _disposed;

    private FileLabelStore(string path, int size, LabelFile lockFile, LabelFile label, LabelFile journal, bool recovered)
    {
        Path = path;
        Size = size;
        _lock = lockFile;
        _label = label;
        _journal = journal;
        RecoveredOnOpen = recovered;
    }

    /// <summary>The label file.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <summary>True when opening replayed a journal record the label file did not yet hold (a write interrupted by a crash).</summary>
    public bool RecoveredOnOpen { get; }

    /// <summary>Opens (creating if missing) the label file at <paramref name="path"/> with <paramref name="size"/> bytes.</summary>
    /// <exception cref="UserErrorException">The file has another size, another process holds it, it or a sibling is a symbolic link, or its directory is unsafe.</exception>
    /// <exception cref="IOException">A system call failed.</exception>
    public static FileLabelStore Open(string path, int size, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        logger ??= NullLogger.Instance;
        path = System.IO.Path.GetFullPath(path);
        string directory = System.IO.Path.GetDirectoryName(path) ?? "/";
        SafeFile.EnsureSafeDirectory(directory, create: true);

        var lockFile = LabelFile.Open(path + ".lock", create: true);
        LabelFile? label = null, journal = null;
        try
        {
            if (!lockFile.TryLockExclusive())
                throw new UserErrorException($"label file {path} is in use by another xen-vnvdimm ({path}.lock is locked)");

            // A link in the label's place, even a dangling one, is opened (and refused), never replaced.
            if (!File.Exists(path) && new FileInfo(path).LinkTarget is null)
                CreateZeroFilled(path, directory, size, logger);
            label = LabelFile.Open(path, create: false);
            if (label.Length != size)
                throw new UserErrorException($"label file {path} is {label.Length} bytes but the configured label size is {size}");

            journal = LabelFile.Open(path + ".journal", create: true);
            // The journal's directory entry must survive a power cut before its first record counts.
            LabelFile.SyncDirectory(directory);
            bool recovered = Replay(label, journal, size);
            if (recovered)
                logger.LogWarning("label file {Path}: replayed an interrupted write from the journal", path);
            return new FileLabelStore(path, size, lockFile, label, journal, recovered);
        }
        catch
        {
            journal?.Dispose();
            label?.Dispose();
            lockFile.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Read(int offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_label.ReadAt(destination, offset) != destination.Length)
                throw new IOException($"label file {Path} is shorter than {offset + destination.Length} bytes");
        }
    }

    /// <inheritdoc/>
    public void Write(int offset, ReadOnlySpan<byte> source)
    {
        CheckRange(offset, source.Length);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int recordSize = LabelJournal.RecordSize(source.Length);
            if (_record.Length < recordSize)
                _record = new byte[recordSize];
            var record = _record.AsSpan(0, recordSize);
            LabelJournal.Encode(record, Size, offset, source);
            _journal.WriteAt(record, 0);
            _journal.DataSync();
            _label.WriteAt(source, offset);
            _label.DataSync();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _journal.Dispose();
            _label.Dispose();
            _lock.Dispose(); // closing the descriptor releases the lock
        }
    }

    private void CheckRange(int offset, int length)
    {
        if (offset < 0 || (long)offset + length > Size)
            throw new ArgumentOutOfRangeException(nameof(offset), $"range {offset}+{length} is outside the {Size}-byte label area");
    }

    /// <summary>Re-applies an intact journal record the label file does not hold; true when it did.</summary>
    private static bool Replay(LabelFile label, LabelFile journal, int size)
    {
        // A record never exceeds one whole-area write; anything longer is not ours to read.
        var buffer = new byte[Math.Min(journal.Length, LabelJournal.RecordSize(size))];
        int n = journal.ReadAt(buffer, 0);
        if (!LabelJournal.TryDecode(buffer.AsSpan(0, n), size, out int offset, out var data))
            return false;
        var current = new byte[data.Length];
        if (label.ReadAt(current, offset) == data.Length && data.SequenceEqual(current))
            return false;
        label.WriteAt(data, offset);
        label.DataSync();
        return true;
    }

    private static void CreateZeroFilled(string path, string directory, int size, ILogger logger)
    {
        string temporary = path + ".new";
        SafeFile.DeleteIfPresent(temporary); // a leftover of a crashed creation (or a planted link)
        using (var file = LabelFile.CreateExclusive(temporary))
        {
            file.Truncate(size);
            // Explicit zeros rather than a sparse file: the blocks exist, so a later label write
            // cannot fail for lack of space.
            var zeros = new byte[Math.Min(size, 64 * 1024)];
            for (long at = 0; at < size; at += zeros.Length)
                file.WriteAt(zeros.AsSpan(0, (int)Math.Min(zeros.Length, size - at)), at);
            file.DataSync();
        }
        File.Move(temporary, path, overwrite: true);
        LabelFile.SyncDirectory(directory);
        logger.LogInformation("created label file {Path} ({Size} bytes, zero-filled)", path, size);
    }
}

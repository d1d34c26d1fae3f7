namespace XenVnvdimm.DeviceModel.Platforms.Xen.Qmp;

/// <summary>
/// Cuts a QMP client's byte stream into whole top-level JSON objects, whatever way the bytes
/// arrive (libxl writes <c>{"execute":...}\r\n</c> per command, but a read may end anywhere).
/// Braces inside strings and escaped quotes are not structure. Bytes outside any object (line
/// ends) are returned as they come, so the stream forwarded is exactly the stream read.
/// </summary>
internal sealed class QmpObjectSplitter
{
    /// <summary>The longest object held back before giving up on framing (QMP commands are small).</summary>
    public const int MaxPending = 1 << 20;

    private readonly List<byte> _pending = new();
    private int _depth;
    private bool _inString;
    private bool _escaped;
    private int _scanned;

    /// <summary>Bytes read but not yet part of a whole object.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>
    /// Adds <paramref name="data"/> and returns every chunk now complete, in stream order: each is
    /// one object (with the bytes before it since the last chunk), or bytes outside any object, or
    /// (when the stream stops being JSON: a stray closing brace, an object over
    /// <see cref="MaxPending"/>) everything pending; only whole objects are marked as objects.
    /// </summary>
    public List<(byte[] Bytes, bool IsObject)> Push(ReadOnlySpan<byte> data)
    {
        _pending.AddRange(data);
        var done = new List<(byte[], bool)>();
        int start = 0;
        for (int i = _scanned; i < _pending.Count; i++)
        {
            byte b = _pending[i];
            if (_inString)
            {
                if (_escaped)
                    _escaped = false;
                else if (b == (byte)'\\')
                    _escaped = true;
                else if (b == (byte)'"')
                    _inString = false;
                continue;
            }
            switch (b)
            {
                case (byte)'"' when _depth > 0:
                    _inString = true;
                    break;
                case (byte)'{':
                    _depth++;
                    break;
                case (byte)'}' when _depth > 0:
                    if (--_depth == 0)
                    {
                        done.Add((_pending.GetRange(start, i + 1 - start).ToArray(), true));
                        start = i + 1;
                    }
                    break;
                case (byte)'}':
                    // not JSON any more: pass what we have through unjudged
                    done.Add((_pending.GetRange(start, i + 1 - start).ToArray(), false));
                    start = i + 1;
                    break;
            }
        }
        if (_depth == 0 && start < _pending.Count)
        {
            done.Add((_pending.GetRange(start, _pending.Count - start).ToArray(), false));
            start = _pending.Count;
        }
        _pending.RemoveRange(0, start);
        _scanned = _pending.Count;
        if (_pending.Count > MaxPending)
        {
            done.Add((_pending.ToArray(), false));
            _pending.Clear();
            _scanned = 0;
            _depth = 0;
            _inString = _escaped = false;
        }
        return done;
    }

    /// <summary>Takes whatever is pending (whitespace after the last object, or a partial one) at the end of the stream.</summary>
    public byte[] TakeRest()
    {
        byte[] rest = _pending.ToArray();
        _pending.Clear();
        _scanned = 0;
        return rest;
    }
}

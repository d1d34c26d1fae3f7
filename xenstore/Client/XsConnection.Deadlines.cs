namespace XenVnvdimm.XenStore.Client;

/// <summary>Timeouts and cancellation of pending requests.</summary>
internal sealed partial class XsConnection
{
    // Ends a request early (timeout or cancellation). A reply may still come for an id that went
    // out: remember it, so it is dropped rather than taken as unsolicited.
    private void Abandon(uint requestId, Pending pending, Exception reason)
    {
        lock (_lock)
        {
            if (!_pending.Remove(requestId))
                return;
            if (pending.State != PendingState.Queued)
                _abandoned.Add(requestId);
        }
        pending.Reply.TrySetException(reason);
    }

    // One timer per connection checks deadlines, instead of a timer per request.
    private void EnsureSweeper(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
            return;
        long period = Math.Clamp((long)timeout.TotalMilliseconds / 10, 5, 250);
        if (_sweeper is null)
        {
            _sweeperPeriod = period;
            _sweeper = new Timer(_ => Sweep(), null, period, period);
        }
        else if (period < _sweeperPeriod)
        {
            _sweeperPeriod = period;
            _sweeper.Change(period, period);
        }
    }

    private void Sweep()
    {
        long now = Environment.TickCount64;
        List<(uint Id, Pending Pending)>? expired = null;
        lock (_lock)
        {
            foreach (var (id, p) in _pending)
            {
                if (p.Deadline <= now)
                    (expired ??= []).Add((id, p));
            }
        }
        if (expired is null)
            return;
        foreach (var (id, p) in expired)
        {
            if (p.State == PendingState.Writing)
            {
                // Give the write itself a whole timeout; stuck that long mid-frame, the stream
                // cannot be resynchronised.
                if (now - p.WriteStarted < (long)p.Timeout.TotalMilliseconds)
                    continue;
                Fail(new XenStoreConnectionException($"sending {p.What} did not finish in time; connection abandoned"));
                return;
            }
            Abandon(id, p, new TimeoutException($"{p.What}: no reply from xenstored within {p.Timeout.TotalSeconds:0.###} s"));
        }
    }
}

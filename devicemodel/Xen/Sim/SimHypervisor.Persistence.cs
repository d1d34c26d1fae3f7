namespace XenVnvdimm.DeviceModel.Xen.Sim;

// Persistence (SimHypervisorOptions.PersistDirectory): the state is restored when the hypervisor is
// created and saved after every hypercall and DM op, so what the companion did is on disk the moment
// the call returns, whatever happens to the process afterwards.
internal sealed partial class SimHypervisor
{
    private readonly Lock _persistLock = new();

    /// <summary>Destroys domain <paramref name="domid"/> (what xl destroy does in Xen), with its persisted RAM.</summary>
    public void DestroyDomain(ushort domid)
    {
        SimDomain? d;
        lock (_domains)
            _domains.Remove(domid, out d);
        d?.Dispose();
        if (Options.PersistDirectory is string dir)
        {
            File.Delete(SimPersistence.RamFile(dir, domid));
            bool empty;
            lock (_domains)
                empty = _domains.Count == 0;
            if (empty && Directory.Exists(dir))
                Directory.Delete(dir, recursive: true); // nothing left to persist
            else
                Persist();
        }
    }

    /// <summary>A snapshot of every domain.</summary>
    public SimSnapshot Snapshot()
    {
        // Under the domctl lock no memory op or domctl is half done; DM ops lock each domain's servers.
        lock (_domctlLock)
        {
            List<SimDomain> domains;
            lock (_domains)
                domains = [.. _domains.Values.OrderBy(d => d.Domid)];
            return new SimSnapshot(_nextServerId, [.. domains.Select(SnapshotOf)]);
        }
    }

    private static SimDomainSnapshot SnapshotOf(SimDomain d)
    {
        List<SimIoreqServerSnapshot> servers;
        lock (d.IoreqServers)
            servers = [.. d.IoreqServers.Values.OrderBy(s => s.Id).Select(s =>
                new SimIoreqServerSnapshot(s.Id, s.Enabled, [.. s.Ranges.Select(r => new SimIoRangeSnapshot(r.Type, r.Start, r.End))]))];
        return new SimDomainSnapshot(d.Domid, d.Vcpus, d.MaxGfn, d.Ram.Pages,
            [.. d.RamPages.OrderBy(p => p.Key).Select(p => new SimRamPageSnapshot(p.Key, p.Value))],
            [.. d.P2m.Ranges.Select(e => new SimP2mSnapshot(e.Start, e.Count, e.Value.Mfn, e.Value.Type, e.Value.Cache))],
            [.. d.Iomem.Ranges.Select(r => new SimRangeSnapshot(r.First, r.Count))],
            servers,
            [.. d.GuestRam.Ranges.Select(r => new SimRangeSnapshot(r.First, r.Count))]);
    }

    private void Persist()
    {
        if (Options.PersistDirectory is not string dir)
            return;
        lock (_persistLock)
            SimPersistence.Save(dir, Snapshot());
    }

    private void Restore(string directory)
    {
        var snapshot = SimPersistence.Load(directory);
        if (snapshot is null)
            return;
        _nextServerId = snapshot.NextServerId;
        foreach (var s in snapshot.Domains)
        {
            var d = new SimDomain(s.Domid, s.Vcpus, s.MaxGfn, s.RamPages, SimPersistence.RamFile(directory, s.Domid));
            foreach (var e in s.P2m)
                d.P2m.Map(e.Gfn, e.Mfn, e.Count, e.Type, e.Cache);
            foreach (var p in s.Ram)
                d.RestoreRamPage(p.Gfn, p.Page);
            foreach (var r in s.Iomem)
                d.Iomem.Add(r.First, r.Count);
            foreach (var r in s.GuestRam ?? [])
                d.GuestRam.Add(r.First, r.Count);
            foreach (var srv in s.IoreqServers)
            {
                var server = new SimIoreqServer(d, srv.Id, Events);
                foreach (var r in srv.Ranges)
                    server.AddRange(r.Type, r.Start, r.End);
                server.Enabled = srv.Enabled;
                d.IoreqServers[srv.Id] = server;
            }
            _domains.Add(s.Domid, d);
        }
    }
}

using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.DeviceModel.Claims;

/// <summary>
/// Liveness of simulated domains: each sim companion persists its hypervisor in
/// <c>STATE_DIR/&lt;domid&gt;.sim/hypervisor.json</c>, which outlives the process as Xen outlives its
/// device models and is deleted when the domain is destroyed; or a companion's state file for it.
/// </summary>
public sealed class SimDomainLiveness : IDomainLiveness
{
    private readonly string _stateDirectory;

    /// <summary>Reads simulated domains under <paramref name="stateDirectory"/>.</summary>
    public SimDomainLiveness(string stateDirectory) => _stateDirectory = stateDirectory;

    /// <inheritdoc/>
    public bool IsAlive(ushort domid)
    {
        // A companion's state file exists from before its first claim until the domain is released: a
        // simulated domain is only created after the claims, and must not look gone in between.
        if (File.Exists(Path.Combine(_stateDirectory, $"{domid}.state")))
            return true;
        try
        {
            var snapshot = SimPersistence.Load(Path.Combine(_stateDirectory, $"{domid}.sim"));
            return snapshot is not null && snapshot.Domains.Any(d => d.Domid == domid);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return true; // unreadable: unsure, so alive
        }
    }
}

using XenVnvdimm.DeviceModel.Xen.Sim;

namespace XenVnvdimm.DeviceModel.Claims;

/// <summary>
/// Liveness of simulated domains: each sim companion persists its hypervisor in
/// <c>STATE_DIR/&lt;domid&gt;.sim/hypervisor.json</c>, which outlives the process as Xen outlives its
/// device models and is deleted when the domain is destroyed.
/// </summary>
public sealed class SimDomainLiveness : IDomainLiveness
{
    private readonly string _stateDirectory;

    /// <summary>Reads simulated domains under <paramref name="stateDirectory"/>.</summary>
    public SimDomainLiveness(string stateDirectory) => _stateDirectory = stateDirectory;

    /// <inheritdoc/>
    public bool IsAlive(ushort domid)
    {
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

namespace XenVnvdimm.DeviceModel.Claims;

/// <summary>Whether a domain still exists: its frames are then still mapped and its claims must stay.</summary>
public interface IDomainLiveness
{
    /// <summary>True when domain <paramref name="domid"/> exists. When unsure, true: a claim wrongly kept only refuses, a claim wrongly dropped lets frames reach two guests.</summary>
    bool IsAlive(ushort domid);
}

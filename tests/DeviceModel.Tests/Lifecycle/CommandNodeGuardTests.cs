using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.XenStore;

namespace XenVnvdimm.Tests.Lifecycle;

/// <summary>
/// Which command-node permissions the companion trusts: only dom0 may have any access. Each
/// refusal names the permission entry that gives another domain access.
/// </summary>
public class CommandNodeGuardTests
{
    [Theory]
    [InlineData("n0")]
    [InlineData("n0 n5")] // an entry that grants nothing
    [InlineData("n0 b0")] // dom0 listed again: it has every access anyway
    public void Dom0OnlyIsTrusted(string perms) =>
        Assert.Null(CommandNodeGuard.Check(XenStorePermissions.Parse(perms)));

    [Theory]
    [InlineData("n0 b5", "readable and writable by domain 5 (permission 'b5' in 'n0 b5')")]
    [InlineData("n0 r5", "readable by domain 5 (permission 'r5' in 'n0 r5')")]
    [InlineData("n0 w5", "writable by domain 5 (permission 'w5' in 'n0 w5')")]
    [InlineData("n5", "owned by domain 5 (permission 'n5' in 'n5')")]
    [InlineData("n5 n0", "owned by domain 5 (permission 'n5' in 'n5 n0')")]
    [InlineData("b0", "readable and writable by every domain not listed (permission 'b0' in 'b0')")]
    [InlineData("r0 n5", "readable by every domain not listed (permission 'r0' in 'r0 n5')")]
    [InlineData("n0 n5 w9", "writable by domain 9 (permission 'w9' in 'n0 n5 w9')")]
    public void AnyOtherDomainsAccessIsRefusedNamingThePermission(string perms, string what) =>
        Assert.Equal($"refusing to act: the command node is {what}; it must be dom0-only ('n0')",
            CommandNodeGuard.Check(XenStorePermissions.Parse(perms)));
}

using XenVnvdimm.DeviceModel.Claims;
using XenVnvdimm.DeviceModel.Xen;
using Xunit;

namespace XenVnvdimm.Tests.Claims;

/// <summary>
/// What "gone" means on real Xen, from XEN_DOMCTL_getdomaininfo's answers. Flag values are Xen's
/// (public/domctl.h: _XEN_DOMINF_dying = 0, _XEN_DOMINF_shutdown = 2, _XEN_DOMINF_paused = 3); the
/// ABI test checks the constant against the header.
/// </summary>
public sealed class XenDomainLivenessTests
{
    private const uint Dying = 1U << 0;
    private const uint Shutdown = 1U << 2;
    private const uint Paused = 1U << 3;

    private static bool Alive(Func<ushort, uint?> flags) => new XenDomainLiveness(flags).IsAlive(7);

    [Fact]
    public void ARunningDomainIsAlive() => Assert.True(Alive(_ => 0));

    [Fact]
    public void APausedOrShutDownDomainIsAlive()
    {
        // xl save suspends (shutdown) the domain and may resume it if the save fails; create -p pauses.
        Assert.True(Alive(_ => Shutdown));
        Assert.True(Alive(_ => Paused));
    }

    [Fact]
    public void ADyingDomainIsGone()
    {
        // After a guest's reboot the old domain can stay a dying zombie while its successor needs the frames.
        Assert.False(Alive(_ => Dying));
        Assert.False(Alive(_ => Dying | Shutdown));
    }

    [Fact]
    public void ADomainXenDoesNotHaveIsGone() => Assert.False(Alive(_ => null));

    [Fact]
    public void EsrchMeansGone() => Assert.False(Alive(_ => throw new XenException("getdomaininfo", 3)));

    [Fact]
    public void AnyOtherRefusalIsTreatedAsAlive() => Assert.True(Alive(_ => throw new XenException("getdomaininfo", 1)));
}

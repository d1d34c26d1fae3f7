using System.Runtime.CompilerServices;

namespace XenVnvdimm.Tests.Integration;

/// <summary>Process-wide settings every companion started by these tests inherits.</summary>
internal static class TestEnvironment
{
    /// <summary>Companion state files go to a private directory, never the host's /run/xen-vnvdimm.</summary>
    [ModuleInitializer]
    internal static void Initialize() =>
        Environment.SetEnvironmentVariable("XEN_VNVDIMM_STATE_DIR", Directory.CreateTempSubdirectory("xvnd-state-").FullName);
}

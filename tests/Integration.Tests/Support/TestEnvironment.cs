using System.Runtime.CompilerServices;

namespace XenVnvdimm.Tests.Integration;

/// <summary>Process-wide settings every companion started by these tests inherits.</summary>
internal static class TestEnvironment
{
    /// <summary>
    /// Companion state files and new guests' label files go to private directories, never the
    /// host's /run/xen-vnvdimm and /var/lib/xen-vnvdimm/labels (companions run as commands get
    /// them from the environment, in-process ones from <see cref="SimState.Labels"/>).
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize()
    {
        Environment.SetEnvironmentVariable("XEN_VNVDIMM_STATE_DIR", Directory.CreateTempSubdirectory("xvnd-state-").FullName);
        Environment.SetEnvironmentVariable("XEN_VNVDIMM_LABEL_DIR", Directory.CreateTempSubdirectory("xvnd-labels-").FullName);
    }
}

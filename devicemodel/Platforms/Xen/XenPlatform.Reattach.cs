using Microsoft.Extensions.Logging;
using XenVnvdimm.DeviceModel.Lifecycle;
using XenVnvdimm.DeviceModel.Memory;
using XenVnvdimm.DeviceModel.Xen;
using XenVnvdimm.DeviceModel.Xen.Abi;

namespace XenVnvdimm.DeviceModel.Platforms.Xen;

// Re-attach after a crash (kill -9). What the dead companion did to the domain outlives it: the pmem
// frames and the mailbox page stay in the guest's p2m, and its ioreq server belongs to the domain, not
// to the process, so it stays too (claiming the doorbell, with nobody answering). The successor checks
// the record against the config and the backings (ReattachCheck) before touching anything, then takes
// the frames and the page over without a hypercall, replaces the ioreq server and serves again.
internal sealed partial class XenPlatform
{
    private void TakeOver(XenGuestSession session, CompanionRecord previous, ulong mailboxGfn, List<FrameRun> runs)
    {
        // A domain that is gone took everything the dead companion mapped with it: nothing to re-attach
        // to, and nothing live the record still has to protect.
        try
        {
            session.Dm.NrVcpus();
        }
        catch (XenException e) when (e.Errno == XenConstants.XEN_ESRCH)
        {
            _state!.Keep = false;
            throw new UserErrorException($"cannot re-attach: domain {_options.Domid} no longer exists ({e.Message}); the previous companion's mappings went with it, so its record is dropped");
        }

        // The mailbox page is guest RAM the dead companion populated: map it again, populate nothing.
        var page = session.Foreign.MapPage(mailboxGfn);
        try
        {
            session.Pmem.Adopt(previous.PmemInterface!, runs);
        }
        catch (InvalidOperationException e)
        {
            page.Dispose();
            throw new UserErrorException($"cannot re-attach to domain {_options.Domid}: {e.Message}", e);
        }
        _undo.Push(new StageUndo(() => session.RemoveRamPage(mailboxGfn)));
        _mailbox = page;
        _undo.Push(page);
        // From here on they are ours: teardown removes them, and a clean exit removes the record.
        _state!.Keep = false;
        _logger.LogInformation("re-attached to dom{Domid}: took over {Pages} pages in {Runs} runs ({Interface}) and the mailbox page at gfn 0x{Gfn:x} without mapping them again",
            _options.Domid, runs.Sum(r => (long)r.Count), runs.Count, previous.PmemInterface, mailboxGfn);
    }

    private void DestroyDeadServer(XenGuestSession session, ushort id)
    {
        try
        {
            session.Dm.DestroyIoreqServer(id);
            _logger.LogInformation("dom{Domid}: destroyed the dead companion's ioreq server {Id}", _options.Domid, id);
        }
        catch (XenException e) when (e.Errno == XenConstants.XEN_ENOENT)
        {
            _logger.LogInformation("dom{Domid}: the dead companion's ioreq server {Id} is already gone", _options.Domid, id);
        }
    }
}

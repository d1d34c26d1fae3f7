namespace XenVnvdimm.DeviceModel.Platforms;

/// <summary>One undo step of a staged start-up: the action runs when the stage is released.</summary>
internal sealed class StageUndo(Action action) : IDisposable
{
    public void Dispose() => action();

    /// <summary>Awaits a background task that ends by cancellation or by its connection going away.</summary>
    public static async Task Quietly(Task t)
    {
        try { await t; }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        catch (System.Net.Sockets.SocketException) { }
    }
}

namespace XenVnvdimm.XenStore.Server;

/// <summary>What node operations need from a store: the live tree, or a transaction's view of it.</summary>
internal interface INodeView
{
    Node? Get(string path);

    void Put(string path, Node node);

    void Delete(string path);

    /// <summary>A fresh generation number, larger than every one handed out before.</summary>
    long NextGeneration();
}

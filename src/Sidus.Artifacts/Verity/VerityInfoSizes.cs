namespace Sidus.Artifacts.Verity;

/// <summary>What the hash tree of a <see cref="VerityInfo"/> occupies (the tree is built here, the argument is a contract).</summary>
public static class VerityInfoSizes
{
    extension(VerityInfo info)
    {
        /// <summary>The hash tree's size in bytes (it follows the data; no superblock).</summary>
        public long TreeBytes => VerityTree.HashBlocks(info.DataBlocks) * VerityTree.BlockSize;
    }
}

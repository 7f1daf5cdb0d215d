namespace Sidus.Artifacts.Versions;

/// <summary>One file of an image version the server hands out: where it is in the image, its content and size.</summary>
public sealed record BootFile(string Path, ObjectId Content, long Size);

/// <summary>What an image version boots with by itself: its own kernel and, if it has one, its own initramfs.</summary>
public sealed record ImageBootFiles(ObjectId Version, string Image, long Sequence, BootFile Kernel, BootFile? Initrd);

namespace Sidus.Wire.Contracts;

/// <summary>
/// The HTTP routes between the server and the machines it boots, other than the manifest and content (iPXE asks for
/// the boot script and the kernel files; the agent posts events and fetches its override layer). The templates are
/// what the server maps; the functions fill them for the caller. MACs are given as the caller writes them (the
/// server's scripts use lower-case hex joined by '-', the agent the colon form of /sys).
/// </summary>
public static class NodeRoutes
{
    /// <summary>iPXE's chain entry: it asks this, then its own script under <see cref="ScriptPrefix"/>.</summary>
    public const string Chain = "/boot/ipxe";

    /// <summary>Where the machines' scripts are: PREFIX + MAC + ".ipxe".</summary>
    public const string ScriptPrefix = "/boot/";

    public const string ScriptTemplate = ScriptPrefix + "{mac}.ipxe";

    /// <summary>A version's boot files: the image's kernel and initramfs, and the Sidus ones (<see cref="ImageFiles"/>).</summary>
    public const string ImageFileTemplate = "/images/{version}/{file}";

    /// <summary>POST: one <see cref="NodeEvent"/>.</summary>
    public const string EventsTemplate = "/api/nodes/{mac}/events";

    /// <summary>GET: the node's override layer, a tar archive.</summary>
    public const string OverridesTemplate = "/api/nodes/{mac}/overrides.tar";

    /// <summary>GET, with the node's credential (or an admin's): the version the node should run now, as the
    /// inventory resolves its image (text/plain, one <see cref="NodeVersion"/> line); 404 with the reason when it has none.</summary>
    public const string TargetTemplate = "/api/nodes/{mac}/target";

    /// <summary>POST the boot's ticket (text/plain); the answer is the session (text/plain), or 403/409 with the reason
    /// (<see cref="NodeCredentials"/>).</summary>
    public const string Claim = "/api/boot/claim";

    public static string Script(string mac) => ScriptPrefix + mac + ".ipxe";

    public static string ImageFile(string version, string file) => $"/images/{version}/{file}";

    public static string Events(string mac) => $"/api/nodes/{mac}/events";

    public static string Target(string mac) => $"/api/nodes/{mac}/target";

    public static string Overrides(string mac) => $"/api/nodes/{mac}/overrides.tar";

    /// <summary>The names of <see cref="ImageFileTemplate"/>'s file.</summary>
    public static class ImageFiles
    {
        /// <summary>The image's own kernel.</summary>
        public const string Kernel = "vmlinuz";

        /// <summary>The image's own initramfs.</summary>
        public const string Initrd = "initrd";

        /// <summary>The image's kernel as the Sidus initramfs was made for (its modules match it).</summary>
        public const string AgentKernel = "sidus-vmlinuz";

        /// <summary>The Sidus initramfs (the node agent as /init).</summary>
        public const string AgentInitrd = "sidus-initrd";
    }
}

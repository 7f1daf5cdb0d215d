namespace Sidus.E2E.Tests.Support;

/// <summary>
/// Two judges of "this version is that tree": rsync -naHAXc (content by checksum, modes, owners, times, hard links,
/// ACLs and xattrs: every itemized line is a difference), and a walk of both trees by Python's lstat and xattr calls
/// (names as bytes). Each leaves out EXCLUDED (rsync patterns anchored at the root: /x, or /x/* for what is in x).
/// </summary>
internal static class TreeComparison
{
    private const string StatWalk = """
        import os, sys
        a, b = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2])
        excluded = [os.fsencode(e) for e in sys.argv[3:]]
        def skipped(rel):
            for e in excluded:
                if e.endswith(b"/*"):
                    if rel.startswith(e[:-1]): return True
                elif rel == e or rel.startswith(e + b"/"): return True
            return False
        def walk(root):
            seen = {}
            for dirpath, dirs, files in os.walk(root):
                for name in dirs + files:
                    full = os.path.join(dirpath, name)
                    rel = b"/" + os.path.relpath(full, root)
                    if skipped(rel): continue
                    st = os.lstat(full)
                    xattrs = sorted((k, os.getxattr(full, k, follow_symlinks=False)) for k in os.listxattr(full, follow_symlinks=False))
                    size = st.st_size if not os.path.isdir(full) or os.path.islink(full) else 0
                    target = os.readlink(full) if os.path.islink(full) else None
                    seen[rel] = (st.st_mode, st.st_uid, st.st_gid, size, st.st_mtime_ns, st.st_rdev, target, tuple(xattrs))
            return seen
        left, right = walk(a), walk(b)
        differ = 0
        for rel in sorted(set(left) | set(right)):
            if left.get(rel) != right.get(rel):
                differ += 1
                if differ <= 20: print(rel.decode(errors="replace"), left.get(rel), right.get(rel))
        print(f"{len(left)} paths walked, {differ} differ")
        sys.exit(1 if differ else 0)
        """;

    /// <summary>rsync's itemized differences (none: empty).</summary>
    public static string Rsync(string expected, string actual, IEnumerable<string> excluded)
    {
        var arguments = new List<string> { "-naHAXc", "--delete", "--itemize-changes", "--numeric-ids" };
        arguments.AddRange(excluded.Select(e => "--exclude=" + e));
        arguments.AddRange([expected.TrimEnd('/') + "/", actual.TrimEnd('/') + "/"]);
        return Tool.Run(TimeSpan.FromMinutes(5), Tool.Require("rsync", "rsync"), [.. arguments]).Trim();
    }

    /// <summary>The stat and xattr walk: (exit code, report). Exit 0 when every path agrees.</summary>
    public static (int Code, string Output) StatAndXattrs(string expected, string actual, IEnumerable<string> excluded) =>
        Tool.TryRun(TimeSpan.FromMinutes(5), Tool.Require("python3", "python3"), ["-c", StatWalk, expected, actual, .. excluded]);
}

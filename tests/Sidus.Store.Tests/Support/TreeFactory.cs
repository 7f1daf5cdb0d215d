using System.Text;
using Sidus.Linux;

namespace Sidus.Store.Tests.Support;

/// <summary>Builds real trees holding every kind of file and metadata Linux allows in a root tree.</summary>
public static class TreeFactory
{
    public static readonly byte[] NonUtf8Name = [(byte)'n', 0xff, 0xfe, (byte)'x'];

    public static void Everything(string root)
    {
        Shell.Sh($"""
            set -e
            cd '{root}'
            mkdir -p etc/deep/er usr/bin empty-dir var/log
            printf 'hello\n' > etc/hostname
            : > etc/empty
            head -c 3000000 /dev/urandom > usr/bin/big
            head -c 70000 /dev/urandom > usr/bin/medium
            printf '#!/bin/sh\necho hi\n' > usr/bin/tool
            chmod 4755 usr/bin/tool
            chmod 2711 etc/deep
            chmod 1777 var/log
            ln usr/bin/medium usr/bin/medium-link
            ln usr/bin/medium etc/deep/er/medium-link2
            : > etc/empty-a; ln etc/empty-a etc/empty-b
            ln -s ../usr/bin/tool etc/tool-link
            ln -s /absolute/target/that/does/not/exist etc/dangling
            mkfifo var/fifo
            mknod var/null c 1 3
            mknod var/disk b 7 200
            chown 1234:5678 etc/hostname
            chown -h 42:43 etc/tool-link
            chown 65534:65534 empty-dir
            setfattr -n user.note -v 'a note' etc/hostname
            setfattr -n user.bin -v 0x00ff00fe etc/empty
            setfattr -n trusted.secret -v value etc/hostname
            setfacl -m u:1000:rwx,g:100:r-x,m:rwx etc/deep
            setfacl -d -m u:1000:rx etc/deep
            setfacl -m u:33:r etc/empty
            truncate -s 50M var/sparse
            printf 'data' | dd of=var/sparse bs=1 seek=20000000 conv=notrunc status=none
            printf 'tail' | dd of=var/sparse bs=1 seek=52428796 conv=notrunc status=none
            truncate -s 1G var/all-holes
            touch -h -d '2001-02-03 04:05:06.123456789' etc/hostname etc/tool-link
            touch -d '1969-07-20 20:17:40.5' etc/empty
            """);
        setcap(Path.Combine(root, "usr/bin/tool"));
        var longName = new string('L', 255);
        File.WriteAllText(Path.Combine(root, "etc", longName), "long name");
        var deep = Path.Combine(root, "var", string.Join('/', Enumerable.Repeat(new string('d', 200), 6)));
        Directory.CreateDirectory(deep);
        File.WriteAllText(Path.Combine(deep, "deepfile"), "deep");
        using (var dir = DirectoryHandle.Open(Path.Combine(root, "etc")))
        using (var file = dir.CreateExclusive(NonUtf8Name, 0x1a4))
        {
            RandomAccess.Write(file, Encoding.ASCII.GetBytes("raw bytes name"), 0);
        }

        Shell.Sh($"python3 -c \"import socket; s=socket.socket(socket.AF_UNIX); s.bind('{root}/var/socket')\"");
    }

    /// <summary>A file capability as the kernel stores it (security.capability), set with setfattr so no libcap tool is needed.</summary>
    private static void setcap(string path) =>
        Shell.Sh($"setfattr -n security.capability -v 0x0100000202000000000000000000000000000000 '{path}'");
}

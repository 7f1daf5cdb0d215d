namespace Sidus.Artifacts.Initramfs;

/// <summary>
/// Reads the DT_NEEDED entries (the shared libraries a program links) of a 64-bit little-endian ELF file, the way
/// the dynamic loader finds them: the PT_DYNAMIC segment's entries, with DT_STRTAB's address mapped to a file
/// offset through the PT_LOAD segments. Every offset is checked against the file: a malformed file is an
/// <see cref="InvalidDataException"/>, never an out-of-range read. A static program has none.
/// </summary>
public static class ElfNeeded
{
    private const int IdentLength = 16;
    private const int HeaderLength = 64;
    private const byte ElfClass64 = 2;
    private const byte ElfDataLittle = 1;
    private const int PhOffOffset = 0x20;
    private const int PhEntSizeOffset = 0x36;
    private const int PhNumOffset = 0x38;
    private const int ProgramHeaderLength = 56;
    private const uint PT_LOAD = 1;
    private const uint PT_DYNAMIC = 2;
    private const int DynamicEntryLength = 16;
    private const long DT_NULL = 0;
    private const long DT_NEEDED = 1;
    private const long DT_STRTAB = 5;
    private const long DT_STRSZ = 10;
    private const int MaxNeeded = 256;

    /// <summary>0x7F 'E' 'L' 'F'.</summary>
    private static ReadOnlySpan<byte> Magic => [0x7F, 0x45, 0x4C, 0x46];

    public static List<string> Read(ReadOnlySpan<byte> elf)
    {
        if (elf.Length < HeaderLength || !elf[..4].SequenceEqual(Magic))
        {
            Invalid("not an ELF file");
        }

        if (elf[4] != ElfClass64 || elf[5] != ElfDataLittle)
        {
            Invalid("not a 64-bit little-endian ELF file");
        }

        var phoff = BinaryPrimitives.ReadUInt64LittleEndian(elf[PhOffOffset..]);
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf[PhEntSizeOffset..]);
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(elf[PhNumOffset..]);
        if (phentsize < ProgramHeaderLength || phoff > (ulong)elf.Length || (ulong)phnum * phentsize > (ulong)elf.Length - phoff)
        {
            Invalid("program headers outside the file");
        }

        var loads = new List<(ulong Vaddr, ulong Offset, ulong Size)>();
        (ulong Offset, ulong Size)? dynamic = null;
        for (var i = 0; i < phnum; i++)
        {
            var ph = elf.Slice((int)phoff + (i * phentsize), ProgramHeaderLength);
            var type = BinaryPrimitives.ReadUInt32LittleEndian(ph);
            var offset = BinaryPrimitives.ReadUInt64LittleEndian(ph[0x08..]);
            var vaddr = BinaryPrimitives.ReadUInt64LittleEndian(ph[0x10..]);
            var filesz = BinaryPrimitives.ReadUInt64LittleEndian(ph[0x20..]);
            if (type == PT_LOAD)
            {
                loads.Add((vaddr, offset, filesz));
            }
            else if (type == PT_DYNAMIC)
            {
                dynamic = (offset, filesz);
            }
        }

        if (dynamic is not { } dyn)
        {
            return [];
        }

        var table = Slice(elf, dyn.Offset, dyn.Size, "the dynamic section");
        var needed = new List<ulong>();
        ulong? strtab = null;
        ulong strsz = 0;
        for (var at = 0; at + DynamicEntryLength <= table.Length; at += DynamicEntryLength)
        {
            var tag = BinaryPrimitives.ReadInt64LittleEndian(table[at..]);
            var value = BinaryPrimitives.ReadUInt64LittleEndian(table[(at + 8)..]);
            if (tag == DT_NULL)
            {
                break;
            }

            switch (tag)
            {
                case DT_NEEDED when needed.Count < MaxNeeded:
                    needed.Add(value);
                    break;
                case DT_STRTAB:
                    strtab = value;
                    break;
                case DT_STRSZ:
                    strsz = value;
                    break;
            }
        }

        if (needed.Count == 0)
        {
            return [];
        }

        var address = strtab ?? throw new InvalidDataException("ELF: DT_NEEDED entries without DT_STRTAB");

        var load = loads.FirstOrDefault(l => address >= l.Vaddr && address - l.Vaddr < l.Size);
        if (load.Size == 0)
        {
            Invalid("DT_STRTAB is not inside a loaded segment");
        }

        var strings = Slice(elf, load.Offset + (address - load.Vaddr), strsz, "the dynamic string table");
        var names = new List<string>(needed.Count);
        foreach (var offset in needed)
        {
            if (offset >= (ulong)strings.Length)
            {
                Invalid("a DT_NEEDED name outside the string table");
            }

            var rest = strings[(int)offset..];
            var end = rest.IndexOf((byte)0);
            if (end <= 0)
            {
                Invalid("an empty or unterminated DT_NEEDED name");
            }

            names.Add(Encoding.UTF8.GetString(rest[..end]));
        }

        return names;
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> elf, ulong offset, ulong length, string what)
    {
        if (offset > (ulong)elf.Length || length > (ulong)elf.Length - offset)
        {
            Invalid(what + " lies outside the file");
        }

        return elf.Slice((int)offset, (int)length);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Invalid(string why) => throw new InvalidDataException("ELF: " + why);
}

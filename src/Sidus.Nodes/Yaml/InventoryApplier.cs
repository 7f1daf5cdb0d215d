using Sidus.Nodes.Storage;

namespace Sidus.Nodes.Yaml;

/// <summary>
/// Makes the stored inventory match a document, in one transaction (all of it or none of it). Without prune, what
/// the document does not mention is left alone; with prune it is removed.
/// </summary>
public static class InventoryApplier
{
    public static Task<ApplyPlan> ApplyAsync(InventoryStore store, InventoryDocument doc, bool prune, bool dryRun, CancellationToken ct = default)
    {
        CheckDocument(doc);
        return store.EditAsync(async edit =>
        {
            var current = await edit.SnapshotAsync();
            CheckImages(store.Images, current, doc);
            CheckLayouts(current, doc);
            var plan = Plan(current, doc, prune);
            if (dryRun || plan.IsEmpty)
            {
                return plan;
            }

            await ExecuteAsync(edit, current, doc, prune);
            return plan with { Applied = true };
        }, ct);
    }

    /// <summary>What applying <paramref name="doc"/> to <paramref name="current"/> changes.</summary>
    public static ApplyPlan Plan(InventorySnapshot current, InventoryDocument doc, bool prune)
    {
        var changes = new List<PlannedChange>();
        foreach (var l in doc.Layouts)
        {
            if (current.Layout(l.Name) is not { } old)
            {
                changes.Add(new(ChangeKind.Add, "layout", l.Name, []));
            }
            else if (old.Text != l.Text)
            {
                changes.Add(new(ChangeKind.Change, "layout", l.Name, [$"revision {old.Revision} -> {old.Revision + 1}"]));
            }
        }

        foreach (var g in doc.Groups)
        {
            var old = current.FindGroup(g.Name);
            if (old is null)
            {
                changes.Add(new(ChangeKind.Add, "group", g.Name, Describe(g.Settings)));
            }
            else if (GroupDiff(old, g) is { Count: > 0 } d)
            {
                changes.Add(new(ChangeKind.Change, "group", g.Name, d));
            }
        }

        var desiredDefaults = doc.Defaults ?? (prune ? NodeSettings.Empty : null);
        if (desiredDefaults is not null && SettingsDiff(current.Defaults, desiredDefaults) is { Count: > 0 } dd)
        {
            changes.Add(new(ChangeKind.Change, "defaults", "defaults", dd));
        }

        var docNodes = doc.Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        if (prune)
        {
            changes.AddRange(current.Nodes.Where(n => !docNodes.Contains(n.Name)).Select(n => new PlannedChange(ChangeKind.Remove, "node", n.Name, [])));
        }

        foreach (var n in doc.Nodes)
        {
            var old = current.FindNode(n.Name);
            if (old is null)
            {
                changes.Add(new(ChangeKind.Add, "node", n.Name, [$"macs: {string.Join(' ', n.Macs)}", .. n.Ip is null ? Array.Empty<string>() : [$"ip: {n.Ip}"], .. Describe(n.Settings)]));
            }
            else if (NodeDiff(old, n) is { Count: > 0 } d)
            {
                changes.Add(new(ChangeKind.Change, "node", n.Name, d));
            }
        }

        foreach (var net in doc.Networks)
        {
            var old = current.Networks.FirstOrDefault(x => x.Name == net.Name);
            if (old is null)
            {
                changes.Add(new(ChangeKind.Add, "network", net.Name, [$"subnet: {net.Subnet ?? "any"}", $"unknown: {NetworkPolicy.PolicyText(net.Unknown)}"]));
            }
            else if (NetworkDiff(old, net) is { Count: > 0 } d)
            {
                changes.Add(new(ChangeKind.Change, "network", net.Name, d));
            }
        }

        if (prune)
        {
            var docNets = doc.Networks.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
            changes.AddRange(current.Networks.Where(n => !docNets.Contains(n.Name)).Select(n => new PlannedChange(ChangeKind.Remove, "network", n.Name, [])));
            var docGroups = doc.Groups.Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
            changes.AddRange(current.Groups.Where(g => !docGroups.Contains(g.Name)).Select(g => new PlannedChange(ChangeKind.Remove, "group", g.Name, [])));
            var docLayouts = doc.Layouts.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
            changes.AddRange(current.Layouts.Where(l => !docLayouts.Contains(l.Name)).Select(l => new PlannedChange(ChangeKind.Remove, "layout", l.Name, [])));
        }

        return new ApplyPlan(changes, Applied: false);
    }

    private static async Task ExecuteAsync(InventoryEdit edit, InventorySnapshot current, InventoryDocument doc, bool prune)
    {
        // Layouts first: the groups, defaults and nodes below may name them.
        var now = DateTimeOffset.UtcNow;
        foreach (var l in doc.Layouts)
        {
            await edit.SetLayoutAsync(l.Name, l.Text, now, l.At);
        }

        foreach (var g in doc.Groups)
        {
            if (current.FindGroup(g.Name) is { } old)
            {
                if (GroupDiff(old, g).Count > 0)
                {
                    await edit.UpdateGroupAsync(g);
                }
            }
            else
            {
                await edit.AddGroupAsync(g);
            }
        }

        if ((doc.Defaults ?? (prune ? NodeSettings.Empty : null)) is { } defaults && SettingsDiff(current.Defaults, defaults).Count > 0)
        {
            await edit.SetDefaultsAsync(defaults);
        }

        var docNodes = doc.Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        if (prune)
        {
            foreach (var n in current.Nodes.Where(n => !docNodes.Contains(n.Name)))
            {
                await edit.RemoveNodeAsync(n.Name);
            }
        }

        // Free the MACs and addresses of every changed node first, so two nodes can swap them in one apply.
        var changed = doc.Nodes.Where(n => current.FindNode(n.Name) is { } old && NodeDiff(old, n).Count > 0).ToList();
        foreach (var n in changed)
        {
            await edit.ReleaseIdentityAsync(n.Name);
        }

        foreach (var n in changed)
        {
            await edit.UpdateNodeAsync(n);
        }

        foreach (var n in doc.Nodes.Where(n => current.FindNode(n.Name) is null))
        {
            await edit.AddNodeAsync(n);
        }

        foreach (var net in doc.Networks)
        {
            var old = current.Networks.FirstOrDefault(x => x.Name == net.Name);
            if (old is null || NetworkDiff(old, net).Count > 0)
            {
                await edit.SetNetworkAsync(net);
            }
        }

        if (prune)
        {
            var docNets = doc.Networks.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var n in current.Networks.Where(n => !docNets.Contains(n.Name)))
            {
                await edit.RemoveNetworkAsync(n.Name);
            }

            var docGroups = doc.Groups.Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var g in current.Groups.Where(g => !docGroups.Contains(g.Name)))
            {
                await edit.RemoveGroupAsync(g.Name, force: false);
            }

            var docLayouts = doc.Layouts.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var l in current.Layouts.Where(l => !docLayouts.Contains(l.Name)))
            {
                await edit.RemoveLayoutAsync(l.Name, force: false);
            }
        }
    }

    /// <summary>
    /// Refuses (dry runs too) an image setting the document changes that names no image, version or tag, at the line of
    /// its `image:` key; the edits would refuse it anyway, without the line.
    /// </summary>
    private static void CheckImages(Func<string, string?>? images, InventorySnapshot current, InventoryDocument doc)
    {
        string? At(string holder) => doc.ImageLocations.GetValueOrDefault(holder);
        if (doc.Defaults is { } d)
        {
            ImageReferenceRule.Require(images, d.Image, current.Defaults.Image, "the defaults", At("defaults"));
        }

        foreach (var g in doc.Groups)
        {
            ImageReferenceRule.Require(images, g.Settings.Image, current.FindGroup(g.Name)?.Settings.Image, $"group '{g.Name}'", At("group:" + g.Name));
        }

        foreach (var n in doc.Nodes)
        {
            ImageReferenceRule.Require(images, n.Settings.Image, current.FindNode(n.Name)?.Settings.Image, $"node '{n.Name}'", At("node:" + n.Name));
        }
    }

    /// <summary>
    /// Refuses (dry runs too) a layout setting the document changes that names a layout neither stored nor in its
    /// `layouts:`, at the line of its `layout:` key.
    /// </summary>
    private static void CheckLayouts(InventorySnapshot current, InventoryDocument doc)
    {
        var known = doc.Layouts.Select(l => l.Name).Concat(current.Layouts.Select(l => l.Name)).ToHashSet(StringComparer.Ordinal);
        void Require(string? layout, string? before, string holder, string key)
        {
            if (layout is not null && layout != before && !known.Contains(layout))
            {
                var at = doc.LayoutLocations.GetValueOrDefault(key);
                Throw.NotFound($"{(at is null ? string.Empty : at + ": ")}{holder} names layout '{layout}', which is neither stored nor under 'layouts:'");
            }
        }

        if (doc.Defaults is { } d)
        {
            Require(d.Layout, current.Defaults.Layout, "the defaults", "defaults");
        }

        foreach (var g in doc.Groups)
        {
            Require(g.Settings.Layout, current.FindGroup(g.Name)?.Settings.Layout, $"group '{g.Name}'", "group:" + g.Name);
        }

        foreach (var n in doc.Nodes)
        {
            Require(n.Settings.Layout, current.FindNode(n.Name)?.Settings.Layout, $"node '{n.Name}'", "node:" + n.Name);
        }
    }

    /// <summary>Refuses a document that contradicts itself, naming both places.</summary>
    public static void CheckDocument(InventoryDocument doc)
    {
        Unique(doc.Nodes.Select(n => n.Name), "node");
        Unique(doc.Groups.Select(g => g.Name), "group");
        Unique(doc.Networks.Select(n => n.Name), "network");
        Unique(doc.Layouts.Select(l => l.Name), "layout");
        var macOwner = new Dictionary<MacAddress, string>();
        var ipOwner = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in doc.Nodes)
        {
            foreach (var mac in n.Macs)
            {
                if (!macOwner.TryAdd(mac, n.Name))
                {
                    Throw.Invalid($"MAC {mac} is given to both node '{macOwner[mac]}' and node '{n.Name}'");
                }
            }

            if (n.Ip is not null && !ipOwner.TryAdd(n.Ip.ToString(), n.Name))
            {
                Throw.Invalid($"IP {n.Ip} is given to both node '{ipOwner[n.Ip.ToString()]}' and node '{n.Name}'");
            }
        }
    }

    private static void Unique(IEnumerable<string> names, string what)
    {
        var dup = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null)
        {
            Throw.Invalid($"{what} '{dup.Key}' appears more than once");
        }
    }

    private static List<string> NodeDiff(Node old, Node desired)
    {
        var d = new List<string>();
        if (!old.Macs.SequenceEqual(desired.Macs))
        {
            d.Add($"macs: {string.Join(' ', old.Macs)} -> {string.Join(' ', desired.Macs)}");
        }

        if (!Equals(old.Ip, desired.Ip))
        {
            d.Add($"ip: {old.Ip?.ToString() ?? "-"} -> {desired.Ip?.ToString() ?? "-"}");
        }

        if (!old.Groups.SequenceEqual(desired.Groups))
        {
            d.Add($"groups: {string.Join(',', old.Groups)} -> {string.Join(',', desired.Groups)}");
        }

        d.AddRange(SettingsDiff(old.Settings, desired.Settings));
        return d;
    }

    private static List<string> GroupDiff(Group old, Group desired)
    {
        var d = new List<string>();
        if (old.Description != desired.Description)
        {
            d.Add($"description: {old.Description ?? "-"} -> {desired.Description ?? "-"}");
        }

        d.AddRange(SettingsDiff(old.Settings, desired.Settings));
        return d;
    }

    private static List<string> NetworkDiff(NetworkPolicy old, NetworkPolicy desired)
    {
        var d = new List<string>();
        if (old.Subnet != desired.Subnet)
        {
            d.Add($"subnet: {old.Subnet ?? "any"} -> {desired.Subnet ?? "any"}");
        }

        if (old.Unknown != desired.Unknown)
        {
            d.Add($"unknown: {NetworkPolicy.PolicyText(old.Unknown)} -> {NetworkPolicy.PolicyText(desired.Unknown)}");
        }

        if (old.DefaultGroup != desired.DefaultGroup)
        {
            d.Add($"group: {old.DefaultGroup ?? "-"} -> {desired.DefaultGroup ?? "-"}");
        }

        return d;
    }

    private static List<string> SettingsDiff(NodeSettings old, NodeSettings desired)
    {
        var d = new List<string>();
        if (old.Image != desired.Image)
        {
            d.Add($"image: {old.Image ?? "-"} -> {desired.Image ?? "-"}");
        }

        if (old.Mode != desired.Mode)
        {
            d.Add($"mode: {old.Mode?.ToText() ?? "-"} -> {desired.Mode?.ToText() ?? "-"}");
        }

        if (old.KernelArgs != desired.KernelArgs)
        {
            d.Add($"kernel-args: {old.KernelArgs ?? "-"} -> {desired.KernelArgs ?? "-"}");
        }

        if (old.Layout != desired.Layout)
        {
            d.Add($"layout: {old.Layout ?? "-"} -> {desired.Layout ?? "-"}");
        }

        foreach (var key in old.Tags.Keys.Union(desired.Tags.Keys).Order(StringComparer.Ordinal))
        {
            var a = old.Tags.GetValueOrDefault(key);
            var b = desired.Tags.GetValueOrDefault(key);
            if (a != b)
            {
                d.Add($"tag {key}: {a ?? "-"} -> {b ?? "-"}");
            }
        }

        var before = old.UpdateExcludes.IsDefault ? [] : old.UpdateExcludes;
        var after = desired.UpdateExcludes.IsDefault ? [] : desired.UpdateExcludes;
        d.AddRange(after.Except(before, StringComparer.Ordinal).Select(p => $"update-exclude: - -> {p}"));
        d.AddRange(before.Except(after, StringComparer.Ordinal).Select(p => $"update-exclude: {p} -> -"));

        return d;
    }

    private static List<string> Describe(NodeSettings s) => SettingsDiff(NodeSettings.Empty, s)
        .Select(x => x.Replace("- -> ", "", StringComparison.Ordinal)).ToList();
}

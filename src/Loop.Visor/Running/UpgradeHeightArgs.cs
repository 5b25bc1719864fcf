using System.Globalization;

namespace Loop.Visor.Running;

/// <summary>
/// Puts the upgrade height into a version's arguments and environment. <c>{upgradeHeight}</c> is only ever replaced
/// by a real height: the height of the upgrade that started the version, or the one recorded when it was upgraded to.
/// A version with no height (genesis, never upgraded to) gets no placeholder at all: the argument holding it is
/// dropped, and so is the flag before it when the placeholder is that flag's whole value (<c>--height {upgradeHeight}</c>).
/// </summary>
internal static class UpgradeHeightArgs
{
    public static RunConfig Apply(RunConfig config, long? height, out IReadOnlyList<string> dropped)
    {
        var removed = new List<string>();
        var text = height?.ToString(CultureInfo.InvariantCulture);
        var processes = config.Processes.Select(p =>
        {
            var env = new Dictionary<string, string>(p.Environment ?? new Dictionary<string, string>(), StringComparer.Ordinal);
            if (text is not null)
            {
                env[VisorService.UpgradeHeightVariable] = text;
                return p with { Args = [.. p.Args.Select(a => a.Replace(VisorService.UpgradeHeightPlaceholder, text, StringComparison.Ordinal))], Environment = env };
            }

            var args = new List<string>();
            foreach (var arg in p.Args)
            {
                if (!arg.Contains(VisorService.UpgradeHeightPlaceholder, StringComparison.Ordinal))
                {
                    args.Add(arg);
                    continue;
                }

                if (arg == VisorService.UpgradeHeightPlaceholder && args.Count > 0 && args[^1].StartsWith('-') && !args[^1].Contains('=', StringComparison.Ordinal))
                {
                    removed.Add(args[^1]);
                    args.RemoveAt(args.Count - 1);
                }

                removed.Add(arg);
            }

            return p with { Args = args };
        }).ToArray();
        dropped = removed;
        return config with { Processes = processes };
    }
}

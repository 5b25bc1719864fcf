namespace Loop.Visor.Upgrades;

/// <summary>An upgrade ready to switch to: its folder and the height the version starts with.</summary>
internal sealed record PreparedUpgrade(UpgradeRequest Request, string Folder, long Height);

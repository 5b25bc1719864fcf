// loop-visor: init, run, add-upgrade, status, version. Exit codes: see VisorExitCodes and README.md.
using System.Runtime.InteropServices;
using Loop.Visor.Cli;
using Microsoft.Extensions.Logging;

return await Cli.RunAsync(args);

namespace Loop.Visor.Cli
{
    internal static class Cli
    {
        private const string Usage = """
            usage:
              loop-visor init --home <folder> [--with-data-node]
              loop-visor run --home <folder>
              loop-visor add-upgrade --home <folder> <tag> <binary or folder> [--height <n>]
              loop-visor prepare-upgrade --home <folder> <tag>
              loop-visor status --home <folder>
              loop-visor version
            """;

        public static async Task<int> RunAsync(string[] args)
        {
            if (args.Length == 0)
            {
                return Fail(Usage);
            }

            try
            {
                var rest = args.Skip(1).ToList();
                return args[0] switch
                {
                    "init" => Init(rest),
                    "run" => await RunVisorAsync(rest),
                    "add-upgrade" => AddUpgrade(rest),
                    "prepare-upgrade" => await PrepareUpgradeAsync(rest),
                    "status" => Status(rest),
                    "version" => Version(),
                    "--help" or "-h" or "help" => Print(Usage),
                    _ => Fail($"unknown command \"{args[0]}\"\n{Usage}"),
                };
            }
            catch (InstallException ex)
            {
                Console.Error.WriteLine($"loop-visor: {ex.Message}");
                return VisorExitCodes.UpgradeFailed;
            }
            catch (Exception ex) when (ex is VisorConfigException or VisorHomeException or InvalidReleaseTagException or UsageException or IOException)
            {
                return Fail(ex.Message);
            }
        }

        private static int Init(List<string> args)
        {
            var home = VisorHome.Init(Home(args), Args.Exists(args, "with-data-node"));
            Console.WriteLine($"created {home.Root}: edit {home.ConfigPath} and {Path.Combine(home.GenesisFolder, RunConfigFile.FileName)}, then run: loop-visor run --home {home.Root}");
            return 0;
        }

        private static async Task<int> RunVisorAsync(List<string> args)
        {
            var home = new VisorHome(Home(args));
            using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }));
            using var stop = new CancellationTokenSource();

            // SIGINT and SIGTERM stop the children gracefully, then Visor exits 0.
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var visor = new VisorService(home, loggerFactory: loggers);
            return await visor.RunAsync(stop.Token);
        }

        private static int AddUpgrade(List<string> args)
        {
            var home = new VisorHome(Home(args));
            var height = Args.GetFlagWithArg(args, "height") is [_, var h] ? long.Parse(h, System.Globalization.CultureInfo.InvariantCulture) : 0;
            var positional = Positional(args, "home", "height");
            if (positional.Count != 2)
            {
                throw new UsageException("add-upgrade needs <tag> and <binary or folder>");
            }

            var folder = VersionInstaller.AddUpgrade(home, VisorConfigFile.Load(home.ConfigPath), positional[0], positional[1], height);
            Console.WriteLine($"added {positional[0]} in {folder}");
            return 0;
        }

        /// <summary>Downloads and installs a version ahead of its upgrade height, so the switch does not wait for the network.</summary>
        private static async Task<int> PrepareUpgradeAsync(List<string> args)
        {
            var home = new VisorHome(Home(args));
            var positional = Positional(args, "home");
            if (positional.Count != 1)
            {
                throw new UsageException("prepare-upgrade needs <tag>");
            }

            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(2) };
            var folder = await new ReleaseInstaller(http).InstallAsync(home, VisorConfigFile.Load(home.ConfigPath), positional[0]);
            Console.WriteLine($"installed {positional[0]} in {folder}");
            return 0;
        }

        private static int Status(List<string> args)
        {
            var home = new VisorHome(Home(args));
            var config = VisorConfigFile.Load(home.ConfigPath);
            Console.WriteLine($"home:     {home.Root}");
            Console.WriteLine($"current:  {(File.Exists(Path.Combine(home.CurrentLink, RunConfigFile.FileName)) ? RunConfigFile.Load(home.CurrentFolder()).Name + " (" + home.CurrentFolder() + ")" : "(not linked yet: genesis at first run)")}");
            Console.WriteLine($"previous: {home.PreviousFolder() ?? "(none)"}");
            var info = Path.Combine(home.Root, config.UpgradeInfoPath);
            Console.WriteLine($"upgrade:  {(File.Exists(info) ? File.ReadAllText(info).Trim() : "(none pending)")}");
            return 0;
        }

        private static int Version() =>
            Print($"loop-visor {typeof(VisorService).Assembly.GetName().Version} (.NET {Environment.Version})");

        private static string Home(List<string> args) =>
            Args.GetFlagWithArg(args, "home") is [_, var home] ? home : throw new UsageException("--home <folder> is required");

        private static List<string> Positional(List<string> args, params string[] flagsWithValues)
        {
            var result = new List<string>();
            for (var i = 0; i < args.Count; i++)
            {
                if (args[i].StartsWith('-'))
                {
                    if (!args[i].Contains('=', StringComparison.Ordinal) && flagsWithValues.Contains(args[i].TrimStart('-')))
                    {
                        i++;
                    }

                    continue;
                }

                result.Add(args[i]);
            }

            return result;
        }

        private static int Print(string text)
        {
            Console.WriteLine(text);
            return 0;
        }

        private static int Fail(string message)
        {
            Console.Error.WriteLine($"loop-visor: {message}");
            return VisorExitCodes.ConfigError;
        }
    }

    /// <summary>The command line is wrong.</summary>
    internal sealed class UsageException(string message) : Exception(message);
}

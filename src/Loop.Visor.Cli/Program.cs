// loop-visor: init, run, add-upgrade, prepare-upgrade, status, clear-refused, version. Exit codes: VisorExitCodes and README.md.
using System.CommandLine;
using System.Runtime.InteropServices;
using Loop.Visor.Cli;

return await Cli.RunAsync(args).ConfigureAwait(false);

namespace Loop.Visor.Cli
{
    internal static class Cli
    {
        public static async Task<int> RunAsync(string[] args)
        {
            ParseResult parsed;
            try
            {
                parsed = BuildCommands().Parse(args);
            }
            catch (Exception ex)
            {
                return Fail($"could not read the command line: {ex.Message}", VisorExitCodes.ConfigError);
            }

            // Visor handles SIGINT and SIGTERM itself (it must stop its children before it exits), so the parser's own
            // termination handling, which ends the process after a timeout, is off; so is its handler that prints
            // exceptions with their stack traces: every command turns errors into a message and an exit code.
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }).ConfigureAwait(false);
        }

        private static RootCommand BuildCommands()
        {
            var home = new Option<string>("--home") { Description = "The Visor home folder (config.toml, version folders, the current link).", Required = true };
            var withDataNode = new Option<bool>("--with-data-node") { Description = "Also write a data_node process into the example run configs." };
            var relinkGenesis = new Option<bool>("--relink-genesis")
            {
                Description = "Link current to genesis even though this home was upgraded before (current is missing). Without it such a home is refused.",
            };
            var tag = new Argument<string>("tag") { Description = "The release tag (a plain version name, such as v1.2.0)." };
            var source = new Argument<string>("source") { Description = "A binary (its run config is derived from the current version's) or a prepared version folder with a run-config.toml." };
            var height = new Option<long?>("--height")
            {
                Description = "The block height of the upgrade this version is for: an upgrade reported at another height is refused, one reported without a height gets this one.",
                CustomParser = result =>
                {
                    var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : string.Empty;
                    if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0)
                    {
                        return value;
                    }

                    result.AddError($"--height must be a positive block height (was \"{text}\").");
                    return null;
                },
            };

            var init = new Command("init", "Create a new home folder with every config key written out, a genesis version and an example version.") { home, withDataNode };
            init.SetAction(p => Guard(() => Commands.Init(p.GetValue(home)!, p.GetValue(withDataNode))));

            var run = new Command("run", "Run the current version under supervision until SIGINT or SIGTERM (which stop the processes first).") { home, relinkGenesis };
            run.SetAction((p, _) => GuardAsync(() => RunVisorAsync(p.GetValue(home)!, p.GetValue(relinkGenesis))));

            var addUpgrade = new Command("add-upgrade", "Add a version folder from a binary or a prepared folder.") { home, tag, source, height };
            addUpgrade.SetAction(p => Guard(() => Commands.AddUpgrade(p.GetValue(home)!, p.GetValue(tag)!, p.GetValue(source)!, p.GetValue(height) ?? 0)));

            var prepare = new Command("prepare-upgrade", "Download, verify and install a version ahead of its upgrade height, with the [autoInstall] settings.") { home, tag };
            prepare.SetAction((p, token) => GuardAsync(() => Commands.PrepareUpgradeAsync(p.GetValue(home)!, p.GetValue(tag)!, token)));

            var status = new Command("status", "Show the current version, the last upgrade and rollback, refused and pending upgrades, and the running processes.") { home };
            status.SetAction(p => Guard(() => Commands.Status(p.GetValue(home)!)));

            var clear = new Command("clear-refused", "Let Visor try a refused version again (after the cause was fixed).") { home, tag };
            clear.SetAction(p => Guard(() => Commands.ClearRefused(p.GetValue(home)!, p.GetValue(tag)!)));

            var version = new Command("version", "Print the version of loop-visor.");
            version.SetAction(_ => Commands.Version());

            return new RootCommand("loop-visor: runs a node's processes and switches them to a new version at a protocol upgrade.")
            {
                init, run, addUpgrade, prepare, status, clear, version,
            };
        }

        private static async Task<int> RunVisorAsync(string homePath, bool relinkGenesis)
        {
            var home = new VisorHome(homePath);
            using var loggers = Microsoft.Extensions.Logging.LoggerFactory.Create(b =>
                Microsoft.Extensions.Logging.ConsoleLoggerExtensions.AddSimpleConsole(b, o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; }));
            using var stop = new CancellationTokenSource();

            // SIGINT and SIGTERM stop the children gracefully, then Visor exits 0.
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using var visor = new VisorService(home, new VisorServiceOptions { RelinkGenesis = relinkGenesis }, loggerFactory: loggers);
            return await visor.RunAsync(stop.Token).ConfigureAwait(false);
        }

        private static int Guard(Func<int> command) => GuardAsync(() => Task.FromResult(command())).GetAwaiter().GetResult();

        /// <summary>Every error a command can meet becomes one line on stderr and its documented exit code; no stack trace.</summary>
        private static async Task<int> GuardAsync(Func<Task<int>> command)
        {
            try
            {
                return await command().ConfigureAwait(false);
            }
            catch (InstallException ex)
            {
                return Fail(ex.Message, VisorExitCodes.UpgradeFailed);
            }
            catch (Exception ex) when (ex is VisorConfigException or VisorHomeException or InvalidReleaseTagException or IOException or UnauthorizedAccessException)
            {
                return Fail(ex.Message, VisorExitCodes.ConfigError);
            }
            catch (OperationCanceledException)
            {
                return Fail("cancelled", VisorExitCodes.Stopped);
            }
            catch (Exception ex)
            {
                return Fail($"unexpected error ({ex.GetType().Name}): {ex.Message}", VisorExitCodes.InternalError);
            }
        }

        private static int Fail(string message, int code)
        {
            Console.Error.WriteLine($"loop-visor: {message}");
            return code;
        }
    }
}

using Loop.Testing;

namespace Loop.Jobs.Tests.Running;

/// <summary>Many fast runs through a small number of slots: every run finishes and every slot comes back.</summary>
public sealed class ThroughputTests
{
    [Fact]
    public async Task Thousands_of_instant_runs_all_complete_and_leave_no_slot_taken()
    {
        await using var jobs = await JobsHarness.StartAsync(configure: o => o.MaxConcurrentRuns = 2);
        var ids = new List<string>();
        for (var j = 0; j < 4; j++)
        {
            ids.Add((await jobs.Service.AddJobAsync(new JobSpec { Initiators = [InitiatorSpec.Web()], Tasks = [new TaskSpec("noop"), new TaskSpec("noop")] })).Id);
        }

        var last = await Task.WhenAll(ids.Select(async id =>
        {
            var run = Guid.Empty;
            for (var r = 0; r < 500; r++)
            {
                run = (await jobs.Service.TriggerRunAsync(id)).Id;
            }

            return run;
        }));

        foreach (var run in last)
        {
            await jobs.WaitForStatusAsync(run, RunStatus.Completed);
        }

        await Eventually.WaitAsync(() => jobs.Service.ExecutingRuns == 0, "every slot free");
        foreach (var id in ids)
        {
            (await jobs.Store.ListRunsAsync(id, default)).Should().OnlyContain(r => r.Status == RunStatus.Completed).And.HaveCount(500);
        }
    }
}

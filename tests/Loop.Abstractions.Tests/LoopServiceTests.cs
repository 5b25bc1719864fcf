using Loop.Services;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Loop.Abstractions.Tests;

public sealed class LoopServiceTests
{
    [Fact]
    public async Task Starts_once_and_is_ready_only_while_started()
    {
        var service = new CountingService();
        service.CheckReady().Should().BeOfType<ServiceStateException>().Which.State.Should().Be(ServiceState.Unstarted);

        await service.StartAsync();
        service.CheckReady().Should().BeNull();
        service.State.Should().Be(ServiceState.Started);

        var again = () => service.StartAsync();
        await again.Should().ThrowAsync<ServiceStateException>().WithMessage("*cannot start*Started*");
        service.Starts.Should().Be(1);
    }

    [Fact]
    public async Task Stop_runs_once_however_often_it_is_called()
    {
        var service = new CountingService();
        await service.StartAsync();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => service.StopAsync()));
        await service.StopAsync();

        service.Stops.Should().Be(1);
        service.State.Should().Be(ServiceState.Stopped);
        service.CheckReady().Should().NotBeNull();
    }

    [Fact]
    public async Task Stopping_an_unstarted_service_does_not_run_its_stop()
    {
        var service = new CountingService();
        await service.StopAsync();
        service.Stops.Should().Be(0);
        var start = () => service.StartAsync();
        await start.Should().ThrowAsync<ServiceStateException>();
    }

    [Fact]
    public async Task A_failed_start_is_reported_and_cannot_be_retried()
    {
        var service = new CountingService { FailStart = true };
        var start = () => service.StartAsync();
        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage("start failed");
        service.State.Should().Be(ServiceState.StartFailed);
    }

    [Fact]
    public async Task The_health_check_reports_unhealthy_parts_by_name()
    {
        var service = new CountingService();
        var check = new LoopServiceHealthCheck(service);
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("x", check, null, null) };

        (await check.CheckHealthAsync(context)).Status.Should().Be(HealthStatus.Unhealthy);

        await service.StartAsync();
        (await check.CheckHealthAsync(context)).Status.Should().Be(HealthStatus.Healthy);

        service.PartError = new InvalidOperationException("disk full");
        var result = await check.CheckHealthAsync(context);
        result.Status.Should().Be(HealthStatus.Unhealthy);
        result.Description.Should().Contain("Counting.Disk: disk full", "the description says which part and why");
        result.Data["Counting.Disk"].Should().Be("disk full");
    }

    private sealed class CountingService() : LoopService("Counting")
    {
        public int Starts { get; private set; }

        public int Stops { get; private set; }

        public bool FailStart { get; init; }

        public Exception? PartError { get; set; }

        protected override Task OnStartAsync(CancellationToken cancellationToken)
        {
            Starts++;
            return FailStart ? throw new InvalidOperationException("start failed") : Task.CompletedTask;
        }

        protected override async Task OnStopAsync(CancellationToken cancellationToken)
        {
            await Task.Yield();
            Stops++;
        }

        protected override void ReportParts(IDictionary<string, Exception?> report) => report["Counting.Disk"] = PartError;
    }
}

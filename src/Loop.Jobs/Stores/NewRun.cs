namespace Loop.Jobs;

/// <summary>A run to create, with the initiator fire it belongs to, if any.</summary>
/// <param name="Run">The run.</param>
/// <param name="Fire">The fire that started it, recorded with it so that it starts one run across hosts.</param>
public sealed record NewRun(JobRun Run, InitiatorFire? Fire);

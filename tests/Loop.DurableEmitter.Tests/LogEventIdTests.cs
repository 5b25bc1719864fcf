using Loop.Testing;

namespace Loop.DurableEmitter.Tests;

/// <summary>The package's log messages: one Log class, every event id different.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void Every_message_of_the_package_has_its_own_event_id()
    {
        var ids = typeof(global::Loop.DurableEmitter.EmitterLog).GetNestedType("EventIds", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!;
        EventIdCheck.Count(ids).Should().Be(20);
        EventIdCheck.Duplicates(ids).Should().BeEmpty();
    }
}

using Loop.Testing;

namespace Loop.Plugins.Tests;

/// <summary>The package's log messages: one Log class, every event id different.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void Every_message_of_the_package_has_its_own_event_id()
    {
        var ids = typeof(global::Loop.Plugins.PluginsLog).GetNestedType("EventIds", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!;
        EventIdCheck.Count(ids).Should().Be(11);
        EventIdCheck.Duplicates(ids).Should().BeEmpty();
    }

    [Fact]
    public void Every_message_of_the_sdk_has_its_own_event_id_outside_the_hosts_range()
    {
        var ids = typeof(global::Loop.Plugins.Sdk.PluginSdkLog).GetNestedType("EventIds", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!;
        EventIdCheck.Count(ids).Should().Be(2);
        EventIdCheck.Duplicates(ids).Should().BeEmpty();
        var hostIds = typeof(global::Loop.Plugins.PluginsLog).GetNestedType("EventIds", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!;
        EventIdCheck.Values(ids).Should().NotIntersectWith(EventIdCheck.Values(hostIds));
    }
}

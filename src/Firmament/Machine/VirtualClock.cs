namespace Firmament.Machine;

/// <summary>Virtual time in nanoseconds. Nothing in the model reads the wall clock.</summary>
public sealed class VirtualClock
{
    public ulong Now { get; private set; }

    public void Advance(ulong nanoseconds) => Now += nanoseconds;
}

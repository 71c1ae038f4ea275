namespace Firmament.Machine;

/// <summary>
/// Who decides the scheduler's choices when a run is being explored: which pCPU with work steps next, and whether,
/// after a call that completed, another pCPU goes first. Both are asked only when there is more than one option;
/// each answer is an index into the options, so a choice sequence replays a run exactly.
/// </summary>
public interface IScheduleChooser
{
    /// <summary>Which of <paramref name="candidates"/> (pCPU indices with work, ascending) steps next; an index into the span.</summary>
    int PickPcpu(ReadOnlySpan<int> candidates);

    /// <summary>
    /// After a completed call on pCPU <paramref name="current"/>: 0 to go on there, or 1 + the index in
    /// <paramref name="others"/> (pCPUs with work) of the pCPU that goes first.
    /// </summary>
    int AfterCall(int current, ReadOnlySpan<int> others);
}

/// <summary>Uniformly random choices from a seed: the scheduler's Random strategy as a chooser.</summary>
public sealed class RandomChooser(ulong seed) : IScheduleChooser
{
    private readonly DeterministicRandom _random = new(seed);

    public int PickPcpu(ReadOnlySpan<int> candidates) => _random.Next(candidates.Length);

    public int AfterCall(int current, ReadOnlySpan<int> others) => _random.Next(others.Length + 1);
}

/// <summary>
/// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): every pCPU gets a random priority, the highest
/// with work always runs, and at <c>depth − 1</c> random steps the running pCPU drops to the lowest priority. A bug
/// of depth d is found with probability at least 1/(n·k^(d−1)) per run, for n pCPUs and k steps.
/// </summary>
public sealed class PctChooser : IScheduleChooser
{
    private readonly int[] _priority;
    private readonly long[] _changePoints;
    private long _choices;
    private int _lowest;

    /// <param name="seed">The run's seed.</param>
    /// <param name="pcpus">pCPUs in the machine.</param>
    /// <param name="depth">The bug depth aimed at (≥ 1): depth − 1 priority change points.</param>
    /// <param name="expectedChoices">About how many choice points a run has (where the change points may fall).</param>
    public PctChooser(ulong seed, int pcpus, int depth = 3, long expectedChoices = 2_000)
    {
        var random = new DeterministicRandom(seed);
        _priority = new int[pcpus];
        for (var i = 0; i < pcpus; i++)
        {
            _priority[i] = pcpus + i;
        }

        for (var i = pcpus - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (_priority[i], _priority[j]) = (_priority[j], _priority[i]);
        }

        _changePoints = new long[Math.Max(depth - 1, 0)];
        for (var i = 0; i < _changePoints.Length; i++)
        {
            _changePoints[i] = 1 + random.Next((int)Math.Clamp(expectedChoices, 1, int.MaxValue));
        }

        _lowest = pcpus;
    }

    public int PickPcpu(ReadOnlySpan<int> candidates)
    {
        var best = Highest(candidates);
        return ChangePoint(candidates[best]) ? Highest(candidates) : best;
    }

    public int AfterCall(int current, ReadOnlySpan<int> others)
    {
        ChangePoint(current);
        var best = Highest(others);
        return _priority[others[best]] > _priority[current] ? best + 1 : 0;
    }

    /// <summary>Counts a choice point; at a change point the given pCPU drops below every other.</summary>
    private bool ChangePoint(int pcpu)
    {
        _choices++;
        foreach (var at in _changePoints)
        {
            if (at == _choices)
            {
                _priority[pcpu] = --_lowest;
                return true;
            }
        }

        return false;
    }

    private int Highest(ReadOnlySpan<int> pcpus)
    {
        var best = 0;
        for (var i = 1; i < pcpus.Length; i++)
        {
            if (_priority[pcpus[i]] > _priority[pcpus[best]])
            {
                best = i;
            }
        }

        return best;
    }
}

/// <summary>
/// Depth-first search over choice sequences, one run at a time (stateless model checking): a run follows a prefix of
/// choices and then takes option 0 everywhere, recording how many options each choice point had; the next run bumps
/// the last choice that has an untried option and drops what followed. <see cref="Exhausted"/> when every sequence has
/// been run.
/// </summary>
public sealed class DfsChooser : IScheduleChooser
{
    private readonly List<(int Chosen, int Options)> _path = [];
    private int _position;

    /// <summary>The choices of the run in progress (or just finished): what replays it.</summary>
    public IReadOnlyList<int> Path => _path.ConvertAll(static c => c.Chosen);

    /// <summary>Every choice sequence has been run.</summary>
    public bool Exhausted { get; private set; }

    /// <summary>Starts a run that follows exactly these choices first (a replay), then option 0.</summary>
    public void Replay(IEnumerable<int> choices)
    {
        _path.Clear();
        foreach (var c in choices)
        {
            _path.Add((c, int.MaxValue));
        }

        _position = 0;
    }

    /// <summary>Prepares the next run; false when the search is exhausted.</summary>
    public bool NextRun()
    {
        for (var i = _path.Count - 1; i >= 0; i--)
        {
            if (_path[i].Chosen + 1 < _path[i].Options)
            {
                _path[i] = (_path[i].Chosen + 1, _path[i].Options);
                _path.RemoveRange(i + 1, _path.Count - i - 1);
                _position = 0;
                return true;
            }
        }

        Exhausted = true;
        return false;
    }

    public int PickPcpu(ReadOnlySpan<int> candidates) => Choose(candidates.Length);

    public int AfterCall(int current, ReadOnlySpan<int> others) => Choose(others.Length + 1);

    private int Choose(int options)
    {
        if (_position < _path.Count)
        {
            var (chosen, _) = _path[_position];
            chosen = Math.Min(chosen, options - 1);
            _path[_position++] = (chosen, options);
            return chosen;
        }

        _path.Add((0, options));
        _position++;
        return 0;
    }
}

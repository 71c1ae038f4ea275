using Firmament.Scenarios.Scripts;
using Shouldly;
using Xunit;

namespace Firmament.Tests.Conformance;

/// <summary>
/// The conformance suite under conformance/, run as the project's own tests: one test case per scenario file and
/// personality. A failure prints exactly what `firmament test` prints for it.
/// </summary>
public class ConformanceTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var file in ScenarioReports.Files([SuiteDirectory()]))
        {
            var relative = Path.GetRelativePath(SuiteDirectory(), file);
            if (Emulation.Guests.IsEmulated(relative) && Emulation.Guests.Unavailable() is not null)
            {
                data.Add(relative, "default"); // loading needs the emulator and the images: the case reports the skip
                continue;
            }

            foreach (var personality in ScenarioFile.Load(file).Personalities)
            {
                data.Add(relative, personality.Name);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Scenario_Passes(string file, string personality)
    {
        if (Emulation.Guests.IsEmulated(file))
        {
            Emulation.Guests.Require();
        }

        var scenario = ScenarioFile.Load(Path.Combine(SuiteDirectory(), file));
        var result = ScenarioRunner.Run(scenario, scenario.Personalities.Single(p => p.Name == personality));
        result.Outcome.ShouldBe(ScenarioOutcome.Passed, ScenarioReports.Text([result], []));
    }

    [Fact]
    public void TheSuite_HasTheScenariosItPromises()
    {
        Cases().Count.ShouldBeGreaterThan(0);
    }

    internal static string SuiteDirectory()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !Directory.Exists(Path.Combine(directory.FullName, "conformance")))
        {
            directory = directory.Parent;
        }

        return directory is null ? throw new DirectoryNotFoundException("conformance/ not found above the test binaries") : Path.Combine(directory.FullName, "conformance");
    }
}

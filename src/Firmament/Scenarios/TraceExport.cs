namespace Firmament.Scenarios;

/// <summary>Trace exports (being built).</summary>
public static class TraceExport
{
    public static string ToChromeJson(Platform platform) => "[]";

    public static string ToMermaid(Platform platform) => "";
}

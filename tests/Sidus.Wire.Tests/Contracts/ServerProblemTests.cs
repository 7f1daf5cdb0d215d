using Sidus.Wire.Contracts;

namespace Sidus.Wire.Tests.Contracts;

/// <summary>A node shows the sentence of a refusal, whether the server answered problem details or text.</summary>
public sealed class ServerProblemTests
{
    [Fact]
    public void ProblemDetails_GiveTheirDetail()
    {
        const string Body = """{"type":"about:blank","title":"Conflict","status":409,"detail":"layout small: the root is too small","instance":"/api/nodes/x/install/plan"}""";
        Assert.Equal("layout small: the root is too small", ServerProblem.Text(Body + "\n"));
    }

    [Theory]
    [InlineData("no file content 0123 in version 4567\n", "no file content 0123 in version 4567")]
    [InlineData("{ not json", "{ not json")]
    [InlineData("""{"title":"Conflict"}""", """{"title":"Conflict"}""")]
    [InlineData("""{"detail":409}""", """{"detail":409}""")]
    public void AnythingElse_IsTheTextItself(string body, string shown) => Assert.Equal(shown, ServerProblem.Text(body));

    [Fact]
    public void ALongAnswer_IsCut()
    {
        var shown = ServerProblem.Text(new string('x', 5000));
        Assert.Equal(ServerProblem.MaxLength + 3, shown.Length);
        Assert.EndsWith("...", shown, StringComparison.Ordinal);
    }
}

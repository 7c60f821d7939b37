using System.Text;
using Cairn.Cli.Load;

namespace Cairn.Engine.Tests.Load;

public sealed class ChatStreamReaderTests
{
    private static async Task<(ChatStreamResult Result, int FirstContentCalls)> Read(string text)
    {
        int calls = 0;
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
        var result = await ChatStreamReader.ReadAsync(stream, () => calls++, CancellationToken.None);
        return (result, calls);
    }

    private const string Chunk = """{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"cairn-0.1","choices":[{"index":0,"delta":{CONTENT},"logprobs":null,"finish_reason":FINISH}],"usage":null}""";

    private static string Event(string content, string finish = "null") =>
        "data: " + Chunk.Replace("{CONTENT}", content).Replace("FINISH", finish) + "\n\n";

    [Fact]
    public async Task A_complete_stream_with_usage_succeeds_and_counts_the_usage()
    {
        string text = Event("""{"role":"assistant","content":""}""") + Event("""{"content":"Once"}""") + Event("""{"content":" upon"}""")
            + Event("""{"content":" a"}""") + Event("{}", "\"length\"")
            + """data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}""" + "\n\n"
            + "data: [DONE]\n\n";
        var (r, calls) = await Read(text);
        Assert.True(r.Success);
        Assert.Null(r.Error);
        Assert.Equal(3, r.ContentChunks);
        Assert.Equal(5, r.UsageCompletionTokens);
        Assert.Equal(5, r.Tokens);
        Assert.Equal("chatcmpl-1", r.Id);
        Assert.Equal("cairn-0.1", r.SystemFingerprint);
        Assert.Equal("length", r.FinishReason);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task Without_usage_tokens_are_the_content_chunks_and_comments_and_crlf_are_fine()
    {
        string text = ": keep-alive comment\r\n\r\n" + Event("""{"content":"a"}""").Replace("\n", "\r\n") + Event("""{"content":"b"}""")
            + "data: [DONE]\n"; // no blank line after [DONE]: the server closed right away
        var (r, _) = await Read(text);
        Assert.True(r.Success);
        Assert.Null(r.UsageCompletionTokens);
        Assert.Equal(2, r.Tokens);
    }

    [Fact]
    public async Task A_stream_cut_before_done_is_a_failure()
    {
        var (r, calls) = await Read(Event("""{"role":"assistant","content":""}""") + Event("""{"content":"Once"}""") + "data: {\"id\":\"chatcmpl-1\",\"cho");
        Assert.False(r.Done);
        Assert.False(r.Success);
        Assert.Contains("truncated", r.Error);
        Assert.Equal(1, r.ContentChunks);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task An_empty_body_is_a_failure()
    {
        var (r, _) = await Read("");
        Assert.False(r.Success);
        Assert.Contains("truncated", r.Error);
    }

    [Fact]
    public async Task An_error_event_mid_stream_is_a_failure_even_when_done_follows()
    {
        string text = Event("""{"content":"Once"}""")
            + """data: {"error":{"message":"the provider failed mid-stream: gone","type":"server_error","code":null}}""" + "\n\n" + "data: [DONE]\n\n";
        var (r, _) = await Read(text);
        Assert.True(r.Done);
        Assert.False(r.Success);
        Assert.Equal("error event: the provider failed mid-stream: gone", r.Error);
    }

    [Theory]
    [InlineData("event: error\ndata: {\"message\":\"overloaded\"}\n\ndata: [DONE]\n\n", "error event")]
    [InlineData("error: {\"code\":500}\n\ndata: [DONE]\n\n", "error field")]
    [InlineData("data: {not json\n\ndata: [DONE]\n\n", "malformed event")]
    [InlineData("data: [1,2]\n\ndata: [DONE]\n\n", "malformed event")]
    public async Task Other_error_forms_are_failures(string text, string expected)
    {
        var (r, _) = await Read(text);
        Assert.False(r.Success);
        Assert.StartsWith(expected, r.Error);
    }

    [Fact]
    public async Task Text_completion_chunks_count_too_and_events_after_done_are_ignored()
    {
        string text = """data: {"id":"cmpl-9","object":"text_completion","choices":[{"index":0,"text":"hi","finish_reason":null}]}""" + "\n\n"
            + "data: [DONE]\n\n" + "data: {\"error\":{\"message\":\"late\"}}\n\n";
        var (r, _) = await Read(text);
        Assert.True(r.Success);
        Assert.Equal(1, r.Tokens);
        Assert.Equal("cmpl-9", r.Id);
    }
}

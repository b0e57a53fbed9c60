using Migu.Core;
using Migu.Reports.Store;

namespace Migu.Reports.Tests;

public class LossLogFileTests
{
    private const string Header = "step,task_index,task,epoch,loss,lr,tokens,seconds\n";

    [Fact]
    public void Reads_every_column_of_every_row()
    {
        var rows = LossLogFile.Parse(Header + "0,0,dbpedia,0,2.5,0.0001,120,0.4\n1,1,amazon,1,1.25,5e-05,240,0.9\n", "loss.csv");
        Assert.Equal(2, rows.Count);
        Assert.Equal(new LossPoint(1, 1, "amazon", 1, 1.25, 5e-05, 240, 0.9), rows[1]);
    }

    [Fact]
    public void Finds_columns_by_name_and_ignores_extra_ones_and_crlf()
    {
        var rows = LossLogFile.Parse("loss,step,grad_norm,task,task_index,epoch,lr,tokens,seconds\r\n3.5,7,0.9,yahoo,2,0,0.001,10,1.5\r\n", "loss.csv");
        Assert.Equal(new LossPoint(7, 2, "yahoo", 0, 3.5, 0.001, 10, 1.5), Assert.Single(rows));
    }

    [Fact]
    public void Quoted_task_names_may_hold_commas()
    {
        var rows = LossLogFile.Parse(Header + "0,0,\"qa, \"\"open\"\"\",0,1,0.1,1,1\n", "loss.csv");
        Assert.Equal("qa, \"open\"", Assert.Single(rows).Task);
    }

    [Fact]
    public void A_resumed_run_repeats_steps_and_the_later_row_wins()
    {
        var rows = LossLogFile.Parse(Header + "0,0,a,0,3,0.1,1,1\n1,0,a,0,2,0.1,2,2\n1,0,a,0,1.5,0.1,2,9\n2,0,a,0,1,0.1,3,10\n", "loss.csv");
        Assert.Equal([0L, 1L, 2L], rows.Select(r => r.Step));
        Assert.Equal(1.5, rows[1].Loss);
    }

    [Fact]
    public void A_half_written_last_line_of_a_running_run_is_skipped()
    {
        var rows = LossLogFile.Parse(Header + "0,0,a,0,3,0.1,1,1\n1,0,a,0,2.", "loss.csv");
        Assert.Single(rows);
    }

    [Fact]
    public void A_header_only_file_has_no_rows()
    {
        Assert.Empty(LossLogFile.Parse(Header, "loss.csv"));
    }

    [Theory]
    [InlineData("", "loss.csv: empty; expected the header step,task_index,task,epoch,loss,lr,tokens,seconds")]
    [InlineData("step,task,loss\n", "loss.csv: the header lacks task_index, epoch, lr, tokens, seconds; expected step,task_index,task,epoch,loss,lr,tokens,seconds")]
    [InlineData(Header + "0,0,a,0,abc,0.1,1,1\n1,0,a,0,2,0.1,2,2\n", "loss.csv line 2: loss 'abc' is not a number")]
    [InlineData(Header + "0,0,a\n1,0,a,0,2,0.1,2,2\n", "loss.csv line 2: expected at least 8 fields, got 3")]
    [InlineData(Header + "-1,0,a,0,2,0.1,2,2\n", "loss.csv line 2: step '-1' is not a non-negative integer")]
    [InlineData(Header + "0,0,,0,2,0.1,2,2\n", "loss.csv line 2: task is empty")]
    [InlineData(Header + "0,0,a,0,1,0.1,1,1\n1,0,a,0,oops,0.1,2,2\n", "loss.csv line 3: loss 'oops' is not a number")]
    public void Malformed_rows_give_one_line_with_the_line_number(string text, string expected)
    {
        var e = Assert.Throws<MiguUserException>(() => LossLogFile.Parse(text, "loss.csv"));
        Assert.Equal(expected, e.Message);
    }
}

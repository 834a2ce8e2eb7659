use super::*;
use crate::latency::CalibrationGrid;
use crate::workload::trace::parse_trace;

const A: Field = Field { spellings: &["alpha_col", "a"], required: true };
const B: Field = Field { spellings: &["beta_col"], required: false };

fn open(text: &str, fields: &[Field]) -> std::result::Result<(Vec<String>, Vec<Option<usize>>), String> {
    Table::open(text.as_bytes(), "f.csv", fields, Rows::Rectangular)
        .map(|(t, c)| (t.names().to_vec(), c))
        .map_err(|e| e.to_string())
}

fn cell(text: &str) -> Cell<'_> {
    Cell { file: "f.csv", row: 7, column: "c", bytes: Some(text.as_bytes()) }
}

fn grid_error(text: &str) -> String {
    CalibrationGrid::parse_csv(text.as_bytes(), "f.csv").unwrap_err().to_string()
}

fn trace_error(text: &str) -> String {
    parse_trace(text.as_bytes(), "f.csv").unwrap_err().to_string()
}

#[test]
fn names_are_compared_lower_case_letters_and_digits_only() {
    assert_eq!(normalise("Request tokens"), "requesttokens");
    assert_eq!(normalise(" MAX-SEQ_LEN "), "maxseqlen");
    assert_eq!(normalise("time (s)"), "times");
    assert_eq!(normalise("Ünïcode_2"), "ünïcode2");
    let (names, columns) = open("x,ALPHA-COL,Beta Col\n", &[A, B]).unwrap();
    assert_eq!(names, ["x", "ALPHA-COL", "Beta Col"]);
    assert_eq!(columns, [Some(1), Some(2)]);
    // An optional field may be absent; unclaimed columns are ignored.
    assert_eq!(open("\u{feff}a,zzz\n", &[A, B]).unwrap().1, [Some(0), None]);
}

#[test]
fn missing_ambiguous_and_empty_headers_are_one_line_errors() {
    assert_eq!(
        open("x,y\n", &[A, B]).unwrap_err(),
        "f.csv, row 1, column 'alpha_col': missing column; found 'x', 'y'; accepted spellings (case, spaces and \
         punctuation ignored): alpha_col, a"
    );
    assert_eq!(
        open("A,alpha col\n", &[A]).unwrap_err(),
        "f.csv, row 1, column 'alpha_col': columns 'A' and 'alpha col' both give it; keep one"
    );
    // Two spellings of an optional field are ambiguous too.
    assert!(open("a,beta_col,BetaCol\n", &[A, B]).unwrap_err().contains("columns 'beta_col' and 'BetaCol' both give it"));
    for empty in ["", "\u{feff}", "\n\n", " , \n1,2\n"] {
        assert_eq!(open(empty, &[A, B]).unwrap_err(), "f.csv: empty file: expected a header row with alpha_col", "{empty:?}");
    }
}

#[test]
fn grids_and_traces_share_the_header_rule() {
    // The same kind of error for two columns giving one field, in either file.
    let grid = grid_error("batch_size,Max Seq Len,max_seq_len,latency\n1,128,128,0.8\n");
    assert_eq!(grid, "f.csv, row 1, column 'max_seq_len': columns 'Max Seq Len' and 'max_seq_len' both give it; keep one");
    let trace = trace_error("Timestamp,time,prompt,output\n1,1,2,3\n");
    assert_eq!(trace, "f.csv, row 1, column 'arrival_time': columns 'Timestamp' and 'time' both give it; keep one");
    // Formerly the trace took the first spelling in its list; now it is an error too.
    let trace = trace_error("time,prompt_length,Prompt Tokens,output\n1,2,2,3\n");
    assert!(trace.contains("columns 'prompt_length' and 'Prompt Tokens' both give it"), "{trace}");
    // The same normalisation: spaces, hyphens, brackets and case ignored in both.
    let grid = "Batch Size,MAX-SEQ-LEN,Mean Latency (sec)\n1,128,0.8\n1,256,1.55\n2,128,0.88\n";
    assert_eq!(CalibrationGrid::parse_csv(grid.as_bytes(), "g.csv").unwrap().points.len(), 3);
    let trace = parse_trace(b"Arrival-Time,PROMPT LENGTH,output.length\n0,1,2\n", "t.csv").unwrap();
    assert_eq!((trace.prompt_tokens, trace.output_tokens), (vec![1], vec![2]));
    // The same missing-column and empty-file messages.
    assert!(grid_error("batch,latency\n").starts_with("f.csv, row 1, column 'max_seq_len': missing column; found"));
    assert!(trace_error("time,output\n").starts_with("f.csv, row 1, column 'prompt_length': missing column; found"));
    assert_eq!(grid_error(""), "f.csv: empty file: expected a header row with batch_size, max_seq_len, mean_latency_sec");
    assert_eq!(trace_error(""), "f.csv: empty file: expected a header row with arrival_time, prompt_length, output_length");
}

#[test]
fn rows_are_numbered_by_their_line() {
    let (mut table, _) = Table::open(b"a\n1\n\n2\n\"x\ny\"\n3\n", "f.csv", &[A], Rows::Rectangular).unwrap();
    let mut record = ByteRecord::new();
    let mut rows = Vec::new();
    while let Some(row) = table.next_row(&mut record).unwrap() {
        rows.push(row);
    }
    assert_eq!(rows, [2, 4, 5, 7]);
    // Rectangular tables reject ragged rows; ragged ones read missing cells as empty.
    let (mut table, _) = Table::open(b"\na,b\n\n1\n", "f.csv", &[A], Rows::Rectangular).unwrap();
    assert_eq!(
        table.next_row(&mut record).unwrap_err().to_string(),
        "f.csv, row 4: ragged row: 1 fields where the header has 2"
    );
    // The header's row too, when blank lines come first.
    assert!(open("\n\nx\n", &[A]).unwrap_err().starts_with("f.csv, row 3, column 'alpha_col': missing column"));
    let (mut table, _) = Table::open(b"a,b\n1\n", "f.csv", &[A], Rows::Ragged).unwrap();
    let row = table.next_row(&mut record).unwrap().unwrap();
    assert_eq!(table.cell(&record, row, 1).number().unwrap_err().to_string(), "f.csv, row 2, column 'b': missing value: expected a number");
}

#[test]
fn cells_parse_numbers_integers_and_token_counts() {
    let err = |r: Result<u32>| r.unwrap_err().to_string();
    assert_eq!(cell("2.5e1").number().unwrap(), 25.0);
    assert!(cell("inf").number().unwrap().is_infinite());
    assert_eq!(cell("x").number().unwrap_err().to_string(), "f.csv, row 7, column 'c': not a number: 'x'");
    assert_eq!(cell("8.0").positive_integer().unwrap(), 8);
    assert_eq!(err(cell("0").positive_integer()), "f.csv, row 7, column 'c': must be a positive integer, got 0");
    assert_eq!(cell("12.00").tokens(100).unwrap(), 12);
    assert_eq!(err(cell("").tokens(100)), "f.csv, row 7, column 'c': missing value: expected a whole number of tokens");
    assert_eq!(err(cell("101").tokens(100)), "f.csv, row 7, column 'c': implausible token count '101' (more than 100)");
    let missing = Cell { bytes: None, ..cell("") };
    assert!(err(missing.positive_integer()).ends_with("missing value: expected a number"));
}

#[test]
fn date_times_go_through_jiff() {
    let at = |s: &str| date_time(s.as_bytes());
    // 12:34:56 on 1970-01-02 = 86,400 + 45,296 s.
    for s in ["1970-01-02 12:34:56", "1970-01-02T12:34:56", "1970-01-02t12:34:56z", "1970-01-02T12:34:56Z", "19700102T123456"] {
        assert_eq!(at(s), Some(131_696.0), "{s}");
    }
    assert_eq!(at("1970-01-02T14:34:56+02:00"), Some(131_696.0));
    assert_eq!(at("1970-01-02T10:34:56-02"), Some(131_696.0));
    assert_eq!(at("1970-01-02 12:34:56,25"), Some(131_696.25));
    // Fractions of any length: nanoseconds kept, further digits truncated.
    assert_eq!(at("1970-01-01 00:00:00.6805900"), Some(0.68059));
    assert_eq!(at("1970-01-01 00:00:00.1234567891999Z"), at("1970-01-01 00:00:00.123456789"));
    assert_eq!(at("1970-01-01 00:00:01.999999999999999999999999999+00:00"), Some(1.0 + 999_999_999e-9));
    // Before 1970, with a fraction: -0.5 s.
    assert_eq!(at("1969-12-31T23:59:59.5"), Some(-0.5));
    // A leap second is read as :59 (jiff's rule).
    assert_eq!(at("1970-01-01 00:00:60"), Some(59.0));
    for bad in [
        "1970-01-01",
        "1970-01-01 00:00:00[UTC]",
        "1970-01-01 00:00:00Z[Europe/Paris]",
        "1970-01-01 00:00:00+24:00",
        "1970-01-01 00:00:00-25",
        "1970-01-01 00:00:00.",
        "1970-01-01 00:00:00 Z",
        "12.5",
        "1683722096",
        "",
        "\u{ff}",
    ] {
        assert_eq!(at(bad), None, "{bad}");
    }
    assert_eq!(
        cell("soon").date_time("(e.g. 2023-05-10 12:34:56)").unwrap_err().to_string(),
        "f.csv, row 7, column 'c': not a date-time (e.g. 2023-05-10 12:34:56): 'soon'"
    );
}

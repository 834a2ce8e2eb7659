//! Published tables shipped as reference data (the final paper's study, the seed's stress
//! plan): each row's configuration and its cells by column, read as every CSV of the
//! project is. The files are fixed and their tests read all of them.

use csv::ByteRecord;

use super::{Rows, Table};

/// One published row: its configuration and its cells by column.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedRow {
    pub num_requests: usize,
    pub num_gpus: u32,
    pub k_bins: u32,
    /// The study's step-2 method name ("1. Static FIFO (1 GPU)", ...); empty elsewhere.
    pub method: String,
    pub(crate) values: Vec<(String, f64)>,
    pub(crate) texts: Vec<(String, String)>,
}

impl PublishedRow {
    /// A numeric column (`throughput_req_s`, `request_sla_pct`, ...).
    pub fn value(&self, column: &str) -> Option<f64> {
        self.values.iter().find(|(c, _)| c == column).map(|v| v.1)
    }

    /// A column that is not a number (`method`, `parameter`, ...).
    pub fn text(&self, column: &str) -> Option<&str> {
        self.texts.iter().find(|(c, _)| c == column).map(|v| v.1.as_str())
    }

    /// Step 2's method number (1-4), from its name.
    pub fn method_number(&self) -> Option<u32> {
        self.method.split('.').next()?.trim().parse().ok()
    }
}

/// The rows of an embedded file, read as every CSV of the project is (`csv_input`).
/// The files are fixed and the tests of their modules read all of them, so a row that did not read
/// could only be an edit of the data: it is left out, and the tests fail.
pub fn parse(text: &str, file: &str) -> Vec<PublishedRow> {
    let Ok((mut table, _)) = Table::open(text.as_bytes(), file, &[], Rows::Rectangular) else { return Vec::new() };
    let names = table.names().to_vec();
    let mut record = ByteRecord::new();
    let mut rows = Vec::new();
    while let Ok(Some(row)) = table.next_row(&mut record) {
        let (mut values, mut texts) = (Vec::new(), Vec::new());
        for (c, name) in names.iter().enumerate() {
            let cell = table.cell(&record, row, c);
            match cell.number() {
                Ok(v) => values.push((name.clone(), v)),
                Err(_) => texts.push((name.clone(), cell.show().into_owned())),
            }
        }
        let number = |name: &str| values.iter().find(|(c, _)| c == name).map_or(0.0, |v: &(String, f64)| v.1);
        rows.push(PublishedRow {
            num_requests: number("num_requests") as usize,
            num_gpus: number("num_gpus") as u32,
            k_bins: number("k_bins") as u32,
            method: texts.iter().find(|(c, _)| c == "method").map(|v| v.1.clone()).unwrap_or_default(),
            values,
            texts,
        });
    }
    rows
}


//! A zip archive of text files, stored without compression: "download everything" on
//! the page. Small by design (a few KB of wasm instead of a compression library): CSVs
//! and SVGs of a run are a few MB at most, and any unzip tool reads stored entries.
//! Entries carry a fixed date (1980-01-01), so the same files give the same bytes.

/// CRC-32 (IEEE 802.3, reflected, as zip uses).
fn crc32(bytes: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *slot = c;
    }
    !bytes.iter().fold(!0u32, |c, &b| table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8))
}

/// The archive of `files` (name, contents), in their order. Names are UTF-8 (flag bit
/// 11); zip's 32-bit sizes limit it to 4 GiB, far beyond what a page offers.
pub fn zip(files: &[(String, String)]) -> Vec<u8> {
    const DOS_DATE_1980_01_01: u16 = (1 << 5) | 1;
    const UTF8: u16 = 1 << 11;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, text) in files {
        let (name, data) = (name.as_bytes(), text.as_bytes());
        let (crc, size, offset) = (crc32(data), data.len() as u32, out.len() as u32);
        // Local header: signature, version 2.0, flags, stored, time, date, CRC, sizes, name length, no extra.
        out.extend(0x0403_4b50u32.to_le_bytes());
        for v in [20u16, UTF8, 0, 0, DOS_DATE_1980_01_01] {
            out.extend(v.to_le_bytes());
        }
        for v in [crc, size, size] {
            out.extend(v.to_le_bytes());
        }
        out.extend((name.len() as u16).to_le_bytes());
        out.extend(0u16.to_le_bytes());
        out.extend(name);
        out.extend(data);
        // Central directory entry: the same, plus comment/disk/attributes and the offset.
        central.extend(0x0201_4b50u32.to_le_bytes());
        for v in [20u16, 20, UTF8, 0, 0, DOS_DATE_1980_01_01] {
            central.extend(v.to_le_bytes());
        }
        for v in [crc, size, size] {
            central.extend(v.to_le_bytes());
        }
        for v in [name.len() as u16, 0, 0, 0, 0] {
            central.extend(v.to_le_bytes());
        }
        central.extend(0u32.to_le_bytes());
        central.extend(offset.to_le_bytes());
        central.extend(name);
    }
    let (central_offset, central_size) = (out.len() as u32, central.len() as u32);
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, files.len() as u16, files.len() as u16] {
        out.extend(v.to_le_bytes());
    }
    out.extend(central_size.to_le_bytes());
    out.extend(central_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_standard_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    /// Python's zipfile (CI machines have Python 3) reads it back: names, contents, CRCs.
    #[test]
    fn python_reads_back_every_file() {
        let files = vec![
            ("run.csv".to_string(), "a,b\n1,2\n".to_string()),
            ("charts/latency µs.svg".to_string(), "<svg/>".repeat(1000)),
            ("empty.json".to_string(), String::new()),
        ];
        let bytes = zip(&files);
        assert_eq!(zip(&files), bytes, "deterministic");
        let path = std::env::temp_dir().join(format!("batchlab-zip-test-{}.zip", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let script = "import sys, zipfile, json\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps([[i.filename, z.read(i).decode()] for i in z.infolist()]))";
        let out = std::process::Command::new("python3").arg("-c").arg(script).arg(&path).output().expect("python3 runs");
        let _ = std::fs::remove_file(&path);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let read: Vec<(String, String)> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(read, files);
    }
}

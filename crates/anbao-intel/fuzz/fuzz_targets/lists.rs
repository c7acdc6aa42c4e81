//! Line formats (plain, hosts, CSV, free text) and what comes before them
//! (decompression, text decoding): never panics; every indicator is in
//! normal form; an ad-hoc allowlist of the input's lines answers lookups of
//! what was read.
#![no_main]

use anbao_intel::allowlist::Allowlist;
use anbao_intel::compress::{decode_text_lines, decompress};
use anbao_intel::lists::{
    Column, CsvMapping, ListFormat, parse_time, read_csv, read_freetext, read_hosts, read_plain_list, refang,
};
use anbao_intel::{Collected, IndicatorKind, normalize};
use libfuzzer_sys::fuzz_target;

fn check_normal(c: &Collected) {
    for i in &c.indicators {
        assert_eq!(
            normalize(i.kind, &i.value).as_ref(),
            Ok(&i.value),
            "{} {:?} is not in normal form",
            i.kind,
            i.value
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(bytes) = decompress(rest, 1 << 20) else { return };
    let mut c = Collected::default();
    let Ok(text) = decode_text_lines(&bytes, &mut c) else { return };
    let _ = ListFormat::sniff(&text);
    let delimiter = [b',', b';', b'\t', b'|'][usize::from(mode & 3)];
    match mode >> 2 & 7 {
        0 => read_plain_list(&text, None, &mut c),
        1 => {
            read_plain_list(&text, Some(IndicatorKind::ALL[usize::from(mode >> 5) % IndicatorKind::ALL.len()]), &mut c)
        }
        2 => read_hosts(&text, &mut c),
        3 => read_freetext(&text, None, &mut c),
        4 => {
            let _ = read_csv(
                &text,
                &CsvMapping { delimiter, kind_column: Some(Column::Index(1)), ..CsvMapping::new(0) },
                &mut c,
            );
        }
        5 => {
            let m = CsvMapping {
                delimiter,
                has_header: true,
                header_in_comment: mode & 0x80 != 0,
                kind_column: Some("type".into()),
                category_column: Some(Column::Index(2)),
                confidence_column: Some(Column::Index(3)),
                tags_column: Some(Column::Index(4)),
                first_seen_column: Some(Column::Index(5)),
                last_seen_column: Some(Column::Index(6)),
                context_column: Some(Column::Index(7)),
                ..CsvMapping::new("value")
            };
            let _ = read_csv(&text, &m, &mut c);
        }
        _ => {
            for line in text.lines().take(256) {
                let _ = refang(line);
                let _ = parse_time(line);
            }
        }
    }
    check_normal(&c);
    let mut b = Allowlist::builder();
    let _ = b.add_entries("fuzz", text.lines().take(256));
    let a = b.build();
    for i in &c.indicators {
        let _ = a.allows(i.kind, &i.value);
    }
});

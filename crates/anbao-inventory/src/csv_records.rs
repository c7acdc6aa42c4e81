//! A strict RFC 4180 record reader over decoded text.
//!
//! The `csv` crate is deliberately lenient: a stray quote inside a field is
//! kept as data and an unterminated quote swallows the rest of the file
//! silently. An import must instead tell the operator "line 7: broken
//! quoting", so reading is done here (writing still uses `csv`). Each record
//! carries the 1-based physical line it starts on; a field quoted across
//! lines keeps its line breaks.

/// One record: its first line and fields, or why it is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// 1-based line the record starts on.
    pub line: usize,
    pub fields: Vec<String>,
    /// Broken quoting: the record is unusable.
    pub error: Option<String>,
    /// Fields longer than the limit: (0-based column, length in bytes). Their
    /// text is cut at the limit.
    pub too_long: Vec<(usize, usize)>,
}

impl Record {
    /// Nothing but empty or blank fields (a blank line, or `,,,` as
    /// spreadsheets write for an empty row).
    pub fn is_blank(&self) -> bool {
        self.error.is_none() && self.fields.iter().all(|f| f.trim().is_empty())
    }
}

pub(crate) struct Records<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    delimiter: u8,
    max_field_len: usize,
}

impl<'a> Records<'a> {
    pub fn new(text: &'a str, delimiter: u8, max_field_len: usize) -> Self {
        Records { text, pos: 0, line: 1, delimiter, max_field_len }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Consumes a line break at `pos` if there is one.
    fn eat_newline(&mut self) -> bool {
        match self.peek() {
            Some(b'\n') => {
                self.pos += 1;
            }
            Some(b'\r') => {
                self.pos += 1;
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                }
            }
            _ => return false,
        }
        self.line += 1;
        true
    }

    /// Skips to just after the end of the current physical line.
    fn skip_line(&mut self) {
        let rest = self.text.as_bytes().get(self.pos..).unwrap_or_default();
        let n = rest.iter().position(|&b| b == b'\n' || b == b'\r').unwrap_or(rest.len());
        self.pos += n;
        self.eat_newline();
    }

    fn slice(&self, from: usize, to: usize) -> &'a str {
        self.text.get(from..to).unwrap_or_default()
    }
}

/// Appends `s` to `field` up to `max` bytes (cut on a character boundary);
/// returns the field's full length so far.
fn push_capped(field: &mut String, full_len: &mut usize, s: &str, max: usize) {
    *full_len += s.len();
    if field.len() < max {
        let room = max - field.len();
        let mut cut = room.min(s.len());
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        field.push_str(s.get(..cut).unwrap_or_default());
    }
}

fn count_newlines(s: &str) -> usize {
    // `\r\n` counts once, a lone `\r` or `\n` once each.
    let b = s.as_bytes();
    let mut n = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}

impl Iterator for Records<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        if self.pos >= self.text.len() {
            return None;
        }
        let mut record = Record { line: self.line, fields: Vec::new(), error: None, too_long: Vec::new() };
        let bytes = self.text.as_bytes();
        let delim = self.delimiter;
        loop {
            let column = record.fields.len();
            let mut field = String::new();
            let mut full_len = 0;
            if self.peek() == Some(b'"') {
                let opened_on = self.line;
                self.pos += 1;
                loop {
                    let rest = bytes.get(self.pos..).unwrap_or_default();
                    let Some(q) = rest.iter().position(|&b| b == b'"') else {
                        record.error = Some(format!(
                            "the quoted field in column {} opened on line {opened_on} is never closed",
                            column + 1
                        ));
                        self.line += count_newlines(self.slice(self.pos, self.text.len()));
                        self.pos = self.text.len();
                        return Some(record);
                    };
                    let chunk = self.slice(self.pos, self.pos + q);
                    self.line += count_newlines(chunk);
                    push_capped(&mut field, &mut full_len, chunk, self.max_field_len);
                    self.pos += q + 1;
                    if self.peek() == Some(b'"') {
                        push_capped(&mut field, &mut full_len, "\"", self.max_field_len);
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                match self.peek() {
                    None | Some(b'\n' | b'\r') => {}
                    Some(b) if b == delim => {}
                    Some(_) => {
                        record.error = Some(format!(
                            "text after the closing quote of column {} (a quote inside a quoted field must be \
                             doubled: \"\")",
                            column + 1
                        ));
                        self.skip_line();
                        return Some(record);
                    }
                }
            } else {
                let rest = bytes.get(self.pos..).unwrap_or_default();
                let n = rest.iter().position(|&b| b == delim || b == b'\n' || b == b'\r').unwrap_or(rest.len());
                let chunk = self.slice(self.pos, self.pos + n);
                if chunk.contains('"') {
                    record.error = Some(format!(
                        "a quote inside unquoted column {} (quote the whole field and double the quote: \"\")",
                        column + 1
                    ));
                    self.skip_line();
                    return Some(record);
                }
                push_capped(&mut field, &mut full_len, chunk, self.max_field_len);
                self.pos += n;
            }
            if full_len > self.max_field_len {
                record.too_long.push((column, full_len));
            }
            record.fields.push(field);
            match self.peek() {
                Some(b) if b == delim => self.pos += 1,
                _ => {
                    self.eat_newline();
                    return Some(record);
                }
            }
        }
    }
}

/// Picks the delimiter from the first non-empty line: the most frequent of
/// comma, tab and semicolon (comma on a tie or when none appears).
pub(crate) fn sniff_delimiter(text: &str) -> u8 {
    let first = text.split(['\n', '\r']).find(|l| !l.trim().is_empty()).unwrap_or_default();
    let count = |c: char| first.chars().filter(|&x| x == c).count();
    let (comma, tab, semi) = (count(','), count('\t'), count(';'));
    if tab > comma && tab >= semi {
        b'\t'
    } else if semi > comma && semi > tab {
        b';'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Record> {
        Records::new(text, b',', 1000).collect()
    }

    fn fields(r: &Record) -> Vec<&str> {
        r.fields.iter().map(String::as_str).collect()
    }

    #[test]
    fn plain_and_quoted_fields() {
        let rs = read("a,b,c\r\n\"x,1\",\"say \"\"hi\"\"\",\n\"multi\nline\",2,3\nlast,,\"\"");
        assert_eq!(rs.len(), 4);
        assert_eq!(fields(&rs[0]), ["a", "b", "c"]);
        assert_eq!(fields(&rs[1]), ["x,1", "say \"hi\"", ""]);
        assert_eq!((rs[2].line, fields(&rs[2])), (3, vec!["multi\nline", "2", "3"]));
        assert_eq!((rs[3].line, fields(&rs[3])), (5, vec!["last", "", ""]));
        assert!(rs.iter().all(|r| r.error.is_none()));
    }

    #[test]
    fn blank_lines_are_blank_records() {
        let rs = read("a,b\n\n,\r\n \nc,d\n");
        assert_eq!(
            rs.iter().map(|r| (r.line, r.is_blank())).collect::<Vec<_>>(),
            [(1, false), (2, true), (3, true), (4, true), (5, false)]
        );
    }

    #[test]
    fn broken_quoting_names_the_line_and_resynchronises() {
        let rs = read("a,b\nx,y\"z\n\"p\"q,r\nok,1\n");
        assert_eq!(rs[1].line, 2);
        assert!(rs[1].error.as_deref().unwrap().contains("column 2"), "{:?}", rs[1].error);
        assert_eq!(rs[2].line, 3);
        assert!(rs[2].error.as_deref().unwrap().contains("after the closing quote"));
        assert_eq!((rs[3].line, fields(&rs[3])), (4, vec!["ok", "1"]));
        let rs = read("a,b\nx,\"never\nclosed\n");
        assert_eq!(rs.len(), 2);
        assert!(rs[1].error.as_deref().unwrap().contains("opened on line 2 is never closed"));
    }

    #[test]
    fn long_fields_are_cut_and_reported() {
        let text = format!("a,{}\n", "长".repeat(400));
        let rs: Vec<Record> = Records::new(&text, b',', 100).collect();
        assert_eq!(rs[0].too_long, [(1, 1200)]);
        assert!(rs[0].fields[1].len() <= 100 && rs[0].fields[1].len() >= 98);
    }

    #[test]
    fn delimiters() {
        assert_eq!(sniff_delimiter("名称\t地址\t责任人\n"), b'\t');
        assert_eq!(sniff_delimiter("\n名称;地址;责任人\n"), b';');
        assert_eq!(sniff_delimiter("名称,地址;x\n"), b',');
        assert_eq!(sniff_delimiter(""), b',');
        let rs: Vec<Record> = Records::new("a\tb\n", b'\t', 10).collect();
        assert_eq!(fields(&rs[0]), ["a", "b"]);
    }
}

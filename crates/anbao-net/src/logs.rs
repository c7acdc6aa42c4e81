//! Sensor and resolver logs, one line at a time: Zeek dns/http/ssl/conn (TSV
//! with its #fields header, and JSON), Suricata EVE JSON (dns, http, tls,
//! flow, alert), BIND query logs, Unbound query logs, and a plain
//! `timestamp client qname qtype` format.
//!
//! OWNER: helper C. Stub until filled.

use crate::event::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    ZeekTsv,
    ZeekJson,
    SuricataEve,
    Bind,
    Unbound,
    Plain,
}

impl LogFormat {
    pub fn sniff(first_lines: &[u8]) -> Option<LogFormat> {
        let _ = first_lines;
        None
    }

    pub fn name(self) -> &'static str {
        "log"
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LogError(String);

#[derive(Debug)]
pub struct LogReader {
    format: LogFormat,
}

impl LogReader {
    pub fn new(format: LogFormat) -> Self {
        LogReader { format }
    }

    pub fn line(&mut self, line: &[u8]) -> Result<Option<Event>, LogError> {
        let _ = (line, self.format);
        Ok(None)
    }
}

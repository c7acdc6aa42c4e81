//! Resolver logs: BIND's query log (`queries` category, with or without
//! `print-category`/`print-severity`, the client object `@0x…`, the echoed
//! name and the view; `print-time yes` local time or ISO 8601), Unbound's
//! `log-queries` and `log-replies` lines (epoch or ISO timestamps), and the
//! plain `timestamp client qname qtype` format.

use std::net::IpAddr;

use super::text::{
    WallTime, clip, offset_in, parse_bind_date, parse_epoch, parse_ip, parse_rfc3339, parse_time_text,
    presentation_name, rcode, rr_type,
};
use super::{Context, LineError, Parsed};
use crate::event::{ClientSubnet, Dns, Endpoints, Event, Message, Proto, Qr, Rcode, RrType};

fn utf8(line: &[u8]) -> Result<&str, LineError> {
    std::str::from_utf8(line).map_err(|e| LineError::new(e.valid_up_to(), "not UTF-8"))
}

/// `192.0.2.1#53211`, `::1#53`, or a bare address; the port optional.
fn address_and_port(text: &str) -> Option<(IpAddr, Option<u16>)> {
    if let Some(address) = parse_ip(text) {
        return Some((address, None));
    }
    let (address, port) = text.rsplit_once('#').or_else(|| text.rsplit_once('@'))?;
    Some((parse_ip(address)?, Some(port.parse().ok()?)))
}

fn is_class(text: &str) -> bool {
    ["IN", "CH", "HS", "ANY", "NONE", "CHAOS", "HESIOD"].iter().any(|c| c.eq_ignore_ascii_case(text))
        || text.strip_prefix("CLASS").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn query_event(ts: WallTime, ctx: &Context<'_>, endpoints: Endpoints, qname: &str, qtype: RrType) -> Event {
    Event {
        ts: ts.to_timestamp(ctx.options.utc_offset_seconds),
        endpoints,
        message: Message::Dns(Dns {
            id: 0,
            qr: Qr::Query,
            qname: presentation_name(qname),
            qtype,
            rcode: Rcode::NOERROR,
            answers: Vec::new(),
            client_subnet: None,
        }),
    }
}

/// The whitespace-separated words of `text`.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split_ascii_whitespace()
}

pub(super) fn looks_like_bind(text: &str) -> bool {
    text.contains("client ") && text.contains(" query: ")
}

pub(super) fn looks_like_unbound(text: &str) -> bool {
    (text.contains("unbound[") && [": info: ", ": query: ", ": reply: "].iter().any(|tag| text.contains(tag)))
        || (text.starts_with('[') && text.contains("] unbound["))
}

pub(super) fn looks_like_plain(text: &str) -> bool {
    let mut parts = words(text);
    let (Some(time), Some(client), Some(_), Some(qtype), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    parse_time_text(time).is_some() && address_and_port(client).is_some() && rr_type(qtype).is_some()
}

/// `25-Nov-2026 15:59:59.359 rest` or `2026-11-25T15:59:59.359Z rest`.
fn bind_time<'t>(line: &[u8], text: &'t str) -> Result<(WallTime, &'t str), LineError> {
    let (first, rest) = text.split_once(' ').unwrap_or((text, ""));
    if first.as_bytes().get(4) == Some(&b'-') {
        let time = parse_rfc3339(first)
            .ok_or_else(|| LineError::new(0, format!("timestamp is not ISO 8601: `{}`", clip(first))))?;
        return Ok((time, rest));
    }
    if first.as_bytes().get(2) == Some(&b'-') || first.as_bytes().get(1) == Some(&b'-') {
        let (clock, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let time = parse_bind_date(first, clock).ok_or_else(|| {
            LineError::new(0, format!("timestamp is not `DD-Mon-YYYY HH:MM:SS.mmm`: `{} {}`", clip(first), clip(clock)))
        })?;
        return Ok((time, rest));
    }
    Err(LineError::new(
        offset_in(line, first.as_bytes()),
        format!("no timestamp (BIND writes one with `print-time yes`, `iso8601` or `iso8601-utc`): `{}`", clip(first)),
    ))
}

pub(super) fn bind_line(line: &[u8], ctx: &mut Context<'_>) -> Result<Parsed, LineError> {
    let text = utf8(line)?;
    let (ts, rest) = bind_time(line, text)?;
    // `queries: info: client …`, `client …`; any other line is not a query.
    let Some(client_at) = rest
        .match_indices("client ")
        .map(|(at, _)| at)
        .find(|at| *at == 0 || rest.as_bytes().get(at - 1) == Some(&b' '))
    else {
        return Ok(Parsed::Skipped);
    };
    let after_client = rest.get(client_at + "client ".len()..).unwrap_or("");
    let Some((client_part, query_part)) = after_client.split_once(" query: ") else {
        return Ok(Parsed::Skipped);
    };
    let client_word = words(client_part)
        .find(|w| !w.starts_with("@0x"))
        .ok_or_else(|| LineError::new(offset_in(line, after_client.as_bytes()), "no client address after `client`"))?;
    let client_text = client_word.strip_suffix(':').unwrap_or(client_word);
    let (client, client_port) = address_and_port(client_text).ok_or_else(|| {
        LineError::new(
            offset_in(line, client_word.as_bytes()),
            format!("client is not `address#port`: `{}`", clip(client_text)),
        )
    })?;
    let mut query_words = words(query_part);
    let qname = query_words
        .next()
        .ok_or_else(|| LineError::new(offset_in(line, query_part.as_bytes()), "nothing after `query:`"))?;
    let second = query_words.next();
    // BIND 9.3 and older print no class.
    let type_word = match second {
        Some(class) if is_class(class) => query_words.next(),
        other => other,
    }
    .ok_or_else(|| LineError::new(line.len(), format!("no query type after `{}`", clip(qname))))?;
    let qtype = rr_type(type_word).ok_or_else(|| {
        LineError::new(
            offset_in(line, type_word.as_bytes()),
            format!("query type is not an RR type: `{}`", clip(type_word)),
        )
    })?;
    let mut tcp = false;
    let mut server = None;
    let mut subnet = None;
    while let Some(word) = query_words.next() {
        if word.starts_with('+') || word.starts_with('-') {
            tcp = word.contains('T');
        } else if let Some(inner) = word.strip_prefix('(').and_then(|w| w.strip_suffix(')')) {
            server = parse_ip(inner);
        } else if word == "[ECS" {
            subnet = query_words.next().and_then(|w| w.strip_suffix(']')).and_then(client_subnet);
        }
    }
    let endpoints = Endpoints {
        src: client,
        sport: client_port,
        dst: server,
        dport: None,
        proto: if tcp { Proto::Tcp } else { Proto::Udp },
    };
    let mut event = query_event(ts, ctx, endpoints, qname, qtype);
    if let Message::Dns(dns) = &mut event.message {
        dns.client_subnet = subnet;
    }
    Ok(Parsed::Event(event))
}

/// BIND's `[ECS address/source/scope]`.
fn client_subnet(text: &str) -> Option<ClientSubnet> {
    let mut parts = text.split('/');
    let address = parse_ip(parts.next()?)?;
    let source_prefix = parts.next()?.parse().ok()?;
    let scope_prefix = parts.next().map_or(Some(0), |s| s.parse().ok())?;
    Some(ClientSubnet { address, source_prefix, scope_prefix })
}

/// `[1700000000] rest`, `2024-…T…Z rest`; the year-less forms are refused.
fn unbound_time<'t>(line: &[u8], text: &'t str) -> Result<(WallTime, &'t str), LineError> {
    if let Some(inner) = text.strip_prefix('[') {
        let (stamp, rest) = inner.split_once(']').unwrap_or((inner, ""));
        let time = parse_epoch(stamp)
            .ok_or_else(|| LineError::new(1, format!("timestamp is not epoch seconds: `{}`", clip(stamp))))?;
        return Ok((time, rest.trim_start()));
    }
    let (first, rest) = text.split_once(' ').unwrap_or((text, ""));
    if let Some(time) = parse_rfc3339(first) {
        return Ok((time, rest));
    }
    let reason = if first.len() == 3 && first.bytes().all(|b| b.is_ascii_alphabetic()) {
        String::from("timestamp has no year (`log-time-ascii` or syslog): log with `log-time-ascii: no`")
    } else {
        format!("no timestamp: `{}`", clip(first))
    };
    Err(LineError::new(offset_in(line, first.as_bytes()), reason))
}

pub(super) fn unbound_line(line: &[u8], ctx: &mut Context<'_>) -> Result<Parsed, LineError> {
    let text = utf8(line)?;
    let (ts, rest) = unbound_time(line, text)?;
    // `unbound[1234:0] info: message`; `query:`/`reply:` with log-tag-queryreply.
    let mut parts = rest.splitn(3, ' ');
    let (Some(_process), Some(tag), Some(message)) = (parts.next(), parts.next(), parts.next()) else {
        return Ok(Parsed::Skipped);
    };
    if !matches!(tag, "info:" | "query:" | "reply:") {
        return Ok(Parsed::Skipped);
    }
    let mut fields = words(message);
    let Some(client_word) = fields.next() else {
        return Ok(Parsed::Skipped);
    };
    let Some((client, client_port)) = address_and_port(client_word) else {
        // Other `info:` messages (start of service, statistics…).
        return Ok(Parsed::Skipped);
    };
    let shape_error = || {
        LineError::new(
            offset_in(line, message.as_bytes()),
            format!("expected `client name type class [rcode time cached size]`, got `{}`", clip(message)),
        )
    };
    let (Some(name), Some(type_word), Some(class)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(shape_error());
    };
    if name == "-" {
        // A FORMERR reply: no question to report.
        return Ok(Parsed::Skipped);
    }
    if !is_class(class) {
        return Err(shape_error());
    }
    let qtype = rr_type(type_word).ok_or_else(|| {
        LineError::new(
            offset_in(line, type_word.as_bytes()),
            format!("query type is not an RR type: `{}`", clip(type_word)),
        )
    })?;
    let endpoints = Endpoints { src: client, sport: client_port, dst: None, dport: None, proto: Proto::Other };
    let mut event = query_event(ts, ctx, endpoints, name, qtype);
    if let Some(code_word) = fields.next() {
        let code = rcode(code_word).ok_or_else(|| {
            LineError::new(
                offset_in(line, code_word.as_bytes()),
                format!("reply rcode is not an rcode: `{}`", clip(code_word)),
            )
        })?;
        if let Message::Dns(dns) = &mut event.message {
            dns.qr = Qr::Response;
            dns.rcode = code;
        }
    }
    Ok(Parsed::Event(event))
}

pub(super) fn plain_line(line: &[u8], ctx: &mut Context<'_>) -> Result<Parsed, LineError> {
    let text = utf8(line)?;
    if text.trim_start().starts_with('#') {
        return Ok(Parsed::Header);
    }
    let mut parts = words(text);
    let (Some(time), Some(client_word), Some(qname), Some(type_word)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(LineError::new(line.len(), "expected `timestamp client qname qtype`"));
    };
    if let Some(extra) = parts.next() {
        return Err(LineError::new(
            offset_in(line, extra.as_bytes()),
            format!("more than four fields (`timestamp client qname qtype`): `{}`", clip(extra)),
        ));
    }
    let ts = parse_time_text(time)
        .ok_or_else(|| LineError::new(0, format!("timestamp is not RFC 3339 or epoch seconds: `{}`", clip(time))))?;
    let (client, client_port) = address_and_port(client_word).ok_or_else(|| {
        LineError::new(
            offset_in(line, client_word.as_bytes()),
            format!("client is not an IP address: `{}`", clip(client_word)),
        )
    })?;
    let qtype = rr_type(type_word).ok_or_else(|| {
        LineError::new(offset_in(line, type_word.as_bytes()), format!("qtype is not an RR type: `{}`", clip(type_word)))
    })?;
    let endpoints = Endpoints { src: client, sport: client_port, dst: None, dport: None, proto: Proto::Other };
    Ok(Parsed::Event(query_event(ts, ctx, endpoints, qname, qtype)))
}

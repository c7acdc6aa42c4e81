//! Per-event cost of the heuristics (`cargo bench -p anbao-detect --bench
//! heuristics`): ordinary query names, the same with twenty protected
//! brands, responses with addresses (fast-flux bookkeeping), and the DGA
//! scorer alone.

use std::hint::black_box;
use std::net::IpAddr;

use anbao_detect::heuristics::dga;
use anbao_detect::{Heuristics, HeuristicsConfig};
use anbao_net::Timestamp;
use anbao_net::event::{Answer, AnswerData, Dns, Endpoints, Event, Message, Proto, Qr, Rcode, RrType};
use divan::{Bencher, counter::ItemsCount};

fn main() {
    divan::main();
}

/// Everyday names: a browser's and an operating system's.
const NAMES: &[&str] = &[
    "www.google.com",
    "fonts.gstatic.com",
    "clients4.google.com",
    "www.baidu.com",
    "api.weibo.cn",
    "img.alicdn.com",
    "g.alicdn.com",
    "wx.qlogo.cn",
    "www.msftncsi.com",
    "settings-win.data.microsoft.com",
    "e1234.dscb.akamaiedge.net",
    "d1a2b3c4d5e6f7.cloudfront.net",
    "static.xx.fbcdn.net",
    "rr3---sn-ab5l6nzy.googlevideo.com",
    "ocsp.digicert.com",
    "time.apple.com",
    "www.icbc.com.cn",
    "mobile.10086.cn",
    "update.example.co.uk",
    "news.bbc.co.uk",
];

const BRANDS: &[&str] = &[
    "icbc.com.cn",
    "alipay.com",
    "10086.cn",
    "ccb.com",
    "boc.cn",
    "abchina.com",
    "bankcomm.com",
    "cmbchina.com",
    "taobao.com",
    "jd.com",
    "qq.com",
    "apple.com",
    "microsoft.com",
    "paypal.com",
    "chinamobile.com",
    "chinaunicom.cn",
    "189.cn",
    "95516.com",
    "psbc.com",
    "citicbank.com",
];

fn ip(n: u32) -> IpAddr {
    IpAddr::from(std::net::Ipv4Addr::from((10u32 << 24) | n))
}

fn event(i: usize, qr: Qr) -> Event {
    let name = NAMES[i % NAMES.len()];
    let client = ip((i % 500) as u32);
    let resolver = ip(0x00FF_FF35);
    let (src, dst) = if qr == Qr::Query { (client, resolver) } else { (resolver, client) };
    let answers = if qr == Qr::Query {
        vec![]
    } else {
        (0..2)
            .map(|k| Answer {
                name: name.into(),
                rtype: RrType::A,
                data: AnswerData::Address(IpAddr::from([93, 184, (i % 7) as u8, k])),
                ttl: 300,
            })
            .collect()
    };
    Event {
        ts: Timestamp::from_secs_nanos(1_700_000_000 + (i / 1000) as i64, 0),
        endpoints: Endpoints { src, sport: Some(40000), dst: Some(dst), dport: Some(53), proto: Proto::Udp },
        message: Message::Dns(Dns {
            id: i as u16,
            qr,
            qname: name.into(),
            qtype: RrType::A,
            rcode: Rcode::NOERROR,
            answers,
            client_subnet: None,
        }),
    }
}

const EVENTS: usize = 10_000;

fn run(bencher: Bencher, config: HeuristicsConfig, qr: Qr) {
    let events: Vec<Event> = (0..EVENTS).map(|i| event(i, qr)).collect();
    let mut h = Heuristics::new(config).unwrap();
    let mut out = Vec::new();
    bencher.counter(ItemsCount::new(EVENTS)).bench_local(|| {
        for e in &events {
            h.dns(black_box(e), &mut out);
        }
        out.clear();
    });
}

#[divan::bench]
fn queries(bencher: Bencher) {
    run(bencher, HeuristicsConfig::default(), Qr::Query);
}

#[divan::bench]
fn queries_with_20_brands(bencher: Bencher) {
    let mut config = HeuristicsConfig::default();
    config.lookalike.brands = BRANDS.iter().map(|b| b.to_string()).collect();
    run(bencher, config, Qr::Query);
}

#[divan::bench]
fn responses_with_addresses(bencher: Bencher) {
    run(bencher, HeuristicsConfig::default(), Qr::Response);
}

#[divan::bench]
fn dga_score_label(bencher: Bencher) {
    let labels: Vec<&str> = NAMES.iter().map(|n| n.split('.').rev().nth(1).unwrap_or(n)).collect();
    bencher.counter(ItemsCount::new(labels.len())).bench(|| {
        for l in &labels {
            black_box(dga::score_label(black_box(l)));
        }
    });
}

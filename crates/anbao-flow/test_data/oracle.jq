# One line per flow record that tshark's cflow dissector decodes, and one
# "init" line per IPFIX systemInitTimeMilliseconds option record. Times are
# "unix seconds<TAB>nanoseconds" taken from tshark's absolute-time strings (UTC).
def abstime: capture("^(?<d>.*:[0-9]{2})\\.(?<f>[0-9]+) UTC$") | [(.d | strptime("%b %d, %Y %H:%M:%S") | mktime | tostring), .f];
.[] | ._source.layers as $l | $l.cflow as $c
| ($c["cflow.timestamp"] | abstime) as $export
| ($c["cflow.sysuptime"] // "") as $up
| $l.frame["frame.number"] as $frame
| $c | .. | objects
| if has("cflow.sys_init_time") then
    (["init", $frame] + (.["cflow.sys_init_time"] | abstime) | @tsv)
  else
    (to_entries[] | select(.key | test("^(Flow|pdu) [0-9]+")) | .value
     | select(has("cflow.dstaddr") or has("cflow.dstaddrv6"))
     | ["flow", $frame] + $export + [$up,
        (.["cflow.srcaddr"] // .["cflow.srcaddrv6"]), (.["cflow.dstaddr"] // .["cflow.dstaddrv6"]),
        (.["cflow.srcport"] // ""), (.["cflow.dstport"] // ""), .["cflow.protocol"], .["cflow.packets"], .["cflow.octets"],
        (.["cflow.tcpflags"] // ""),
        (.["cflow.timedelta_tree"]["cflow.timestart"] // ""), (.["cflow.timedelta_tree"]["cflow.timeend"] // "")]
     | @tsv)
  end

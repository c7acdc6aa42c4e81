#!/bin/sh
# Records what tshark reads in each fixture of this folder, as
# fixtures-tshark.tsv (run from this folder after make_fixtures.py). The
# tests compare the crate's reading with this table, and, where tshark is
# installed, this table with tshark (the same command, in tests/it/capture.rs).
set -eu
printf 'file\tframe\ttime\tip_src\tipv6_src\tsport\tdport\tdns_id\n' > fixtures-tshark.tsv
for f in dns-be.pcap dns-nsec.pcap dns.pcapng links.pcapng fragments.pcap truncated.pcap corrupt-block.pcapng; do
    tshark -r "$f" -T fields -E occurrence=f -e frame.number -e frame.time_epoch -e ip.src -e ipv6.src \
        -e udp.srcport -e udp.dstport -e dns.id 2>/dev/null | sed "s/^/$f\t/" >> fixtures-tshark.tsv
done

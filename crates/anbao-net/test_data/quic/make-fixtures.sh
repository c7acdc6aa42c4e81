#!/bin/sh
# Regenerates datagrams.tsv and hellos.tsv from the Suricata-Verify captures
# that carry QUIC, using Wireshark's tshark as the independent decoder:
#   sh make-fixtures.sh /work/shared/data/pcap/suricata-verify
# datagrams.tsv: every UDP datagram whose first byte has the long-header bit,
#   both directions, in capture order (short-header 1-RTT traffic is left out).
# hellos.tsv: what tshark itself decrypts from the client Initials (one row per
#   ClientHello it reassembles): SNI, ALPN list, JA3.
set -eu
dir=${1:?usage: make-fixtures.sh SURICATA_VERIFY_PCAP_DIR}
files="ja4-rules-disabled__input.pcap quic-ack3__input.pcap quic-frag-middle-gap__input.pcap
quic-frag-unordered__input.pcap quic-frag-wait__input.pcap quic-frag__input.pcap quic-retry-multiple__input.pcap"
{
  printf '# file\tframe\tsrc\tsport\tdst\tdport\tudp_payload_hex\n'
  for f in $files; do
    tshark -r "$dir/$f" -Y udp -T fields -e frame.number -e ip.src -e ipv6.src -e udp.srcport -e ip.dst \
      -e ipv6.dst -e udp.dstport -e udp.payload 2>/dev/null |
      awk -F'\t' -v f="$f" 'index("89abcdef", substr($8, 1, 1)) > 0 {
        print f "\t" $1 "\t" $2 $3 "\t" $4 "\t" $5 $6 "\t" $7 "\t" $8 }'
  done
} > datagrams.tsv
{
  printf '# file\tframe\tsni\talpn\tja3\n'
  for f in $files; do
    tshark -r "$dir/$f" -Y 'udp && tls.handshake.type == 1' -T fields -e frame.number \
      -e tls.handshake.extensions_server_name -e tls.handshake.extensions_alpn_str -e tls.handshake.ja3 2>/dev/null |
      awk -F'\t' -v f="$f" '{ print f "\t" $0 }'
  done
} > hellos.tsv

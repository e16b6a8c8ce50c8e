#!/usr/bin/env python3
"""Writes a tiny MaxMind DB (.mmdb, format 2.0) mapping address blocks to a
country, for the GeoIP test in web_stats.sh: no real database is needed.

    mkmmdb.py OUT.mmdb CIDR=CC [CIDR=CC ...]     e.g. 203.0.113.0/24=NL

An IPv6 tree (ip_version 6, 24-bit records) with IPv4 blocks under ::/96,
where libmaxminddb looks IPv4 addresses up. Each record is the map
{"country": {"iso_code": CC}}, as in GeoLite2-Country.
"""
import ipaddress
import struct
import sys
import time


def ctrl(typ, size):
    """A control byte (and the extended type byte, for types past 7)."""
    assert size < 29
    if typ <= 7:
        return bytes([(typ << 5) | size])
    return bytes([size, typ - 7])


def enc(v):
    if isinstance(v, str):
        b = v.encode()
        return ctrl(2, len(b)) + b
    if isinstance(v, dict):
        out = ctrl(7, len(v))
        for k, x in v.items():
            out += enc(k) + enc(x)
        return out
    if isinstance(v, list):
        return ctrl(11, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, tuple):  # (type, int): uint16 = 5, uint32 = 6, uint64 = 9
        typ, n = v
        b = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
        return ctrl(typ, len(b)) + b
    raise TypeError(v)


def main():
    out, specs = sys.argv[1], sys.argv[2:]
    data = b""
    nets = []
    for spec in specs:
        cidr, cc = spec.split("=")
        net = ipaddress.ip_network(cidr)
        if net.version == 4:
            bits = int(net.network_address)  # under ::/96
            plen = 96 + net.prefixlen
        else:
            bits = int(net.network_address)
            plen = net.prefixlen
        nets.append((bits, plen, len(data)))
        data += enc({"country": {"iso_code": cc}})
    # The tree: nodes of [left, right]; a record is ("n", i), ("d", off) or None.
    nodes = [[None, None]]
    for bits, plen, off in nets:
        node = 0
        for depth in range(plen):
            bit = (bits >> (127 - depth)) & 1
            if depth == plen - 1:
                nodes[node][bit] = ("d", off)
            else:
                rec = nodes[node][bit]
                if rec is None or rec[0] != "n":
                    nodes.append([None, None])
                    nodes[node][bit] = ("n", len(nodes) - 1)
                node = nodes[node][bit][1]
    n = len(nodes)

    def val(rec):
        if rec is None:
            return n
        return rec[1] if rec[0] == "n" else n + 16 + rec[1]

    tree = b"".join(
        struct.pack(">I", val(a))[1:] + struct.pack(">I", val(b))[1:] for a, b in nodes
    )
    meta = enc(
        {
            "node_count": (6, n),
            "record_size": (5, 24),
            "ip_version": (5, 6),
            "database_type": "listkeeper-test-Country",
            "languages": ["en"],
            "binary_format_major_version": (5, 2),
            "binary_format_minor_version": (5, 0),
            "build_epoch": (9, int(time.time())),
            "description": {"en": "listkeeper test database"},
        }
    )
    with open(out, "wb") as f:
        f.write(tree + b"\0" * 16 + data + b"\xab\xcd\xefMaxMind.com" + meta)


if __name__ == "__main__":
    main()

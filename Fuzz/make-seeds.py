#!/usr/bin/env python3
"""Writes the hand-made seeds of Fuzz/Corpus/<target>/ (docs/fuzzing.md).

Seeds come from the protocol documents (shared protocols/*.md as summarised in
docs/readers.md), the unit tests and the example configurations; `make fuzz` adds what
libFuzzer finds and `make fuzz-merge` keeps the entries that add coverage. Re-running this
script rewrites the `seed-*` files only.
"""
import gzip, hashlib, io, os, struct, sys, zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# --- GA 467 --------------------------------------------------------------------------
PRE = bytes([0xAA, 0xAA, 0xAA, 0x96, 0x69])


def frame(body):
    n = len(body) + 1
    hi, lo = n >> 8, n & 0xFF
    chk = hi ^ lo
    for b in body:
        chk ^= b
    return PRE + bytes([hi, lo]) + bytes(body) + bytes([chk])


def put(block, text, offset, length):
    units = text.encode("utf-16-le")
    units += b" \x00" * max(0, (length - len(units)) // 2)
    block[offset:offset + length] = units[:length]


def text_block(name, number, card_type=" ", authority="舟山市公安局普陀分局"):
    b = bytearray(256)
    put(b, name, 0, 30); put(b, "1", 30, 2); put(b, "01", 32, 4); put(b, "19900307", 36, 16)
    put(b, "浙江省舟山市普陀区沈家门街道", 52, 70); put(b, number, 122, 36); put(b, authority, 158, 30)
    put(b, "20200101", 188, 16); put(b, "20400101", 204, 16); put(b, "", 220, 28); put(b, card_type, 248, 2); put(b, "", 250, 6)
    return bytes(b)


def read_data(block, photo=1024):
    return bytes([len(block) >> 8, len(block) & 0xFF, photo >> 8, photo & 0xFF]) + block + b"\x57" * photo


SAM_OK = frame([0, 0, 0x90])
FIND_PRESENT = frame([0, 0, 0x9F, 0, 0, 0, 0])
FIND_NONE = frame([0, 0, 0x80])
SELECT_OK = frame([0, 0, 0x90] + [0] * 8)
BLOCK = text_block("张三", "11010519491231002X")
READ_OK = frame(bytes([0, 0, 0x90]) + read_data(BLOCK))
READ_FAILED = frame([0, 0, 0x41])
REQUESTS = {"sam-status": frame([0x11, 0xFF]), "find": frame([0x20, 0x01]), "select": frame([0x20, 0x02]), "read": frame([0x30, 0x01])}

for name, f in REQUESTS.items():
    write("idcard-frame", "request-" + name, f)
write("idcard-frame", "sam-ok", SAM_OK)
write("idcard-frame", "find-present", FIND_PRESENT)
write("idcard-frame", "find-none", FIND_NONE)
write("idcard-frame", "select-ok", SELECT_OK)
write("idcard-frame", "read-ok", READ_OK)
write("idcard-frame", "noise-then-frame", b"\x00\xff\xaa\xaa\x96" + FIND_NONE)
write("idcard-frame", "bad-checksum", FIND_NONE[:-1] + bytes([FIND_NONE[-1] ^ 0xFF]) + SAM_OK)
write("idcard-frame", "bad-length", PRE + b"\xff\xff" + SAM_OK + PRE + b"\x00\x01\x00" + FIND_NONE)
write("idcard-frame", "truncated", READ_OK[:700])
write("idcard-frame", "preamble-runs", b"\xaa" * 9 + b"\x96\x69\x00\x04\x00\x00\x90\x94" + PRE + PRE + b"\x00")
write("idcard-frame", "conversation", SAM_OK + FIND_NONE + FIND_PRESENT + SELECT_OK + READ_OK + FIND_NONE)


# Session scripts: 0x00-0x7F n -> the next (op << 8 | n) bytes from the reader; 0x80|k -> k*25 ms and a tick.
def chunk(data):
    assert len(data) < 0x8000
    return bytes([len(data) >> 8, len(data) & 0xFF]) + data


def tick(ms):
    out = b""
    while ms > 0:
        k = min(127, max(1, ms // 25))
        out += bytes([0x80 | k])
        ms -= k * 25
    return out


visit = chunk(SAM_OK) + chunk(FIND_NONE) + tick(300) + chunk(FIND_PRESENT) + chunk(SELECT_OK) + chunk(READ_OK) + tick(300) + chunk(FIND_PRESENT) + tick(300) + chunk(FIND_NONE) + tick(300) + chunk(FIND_PRESENT) + chunk(SELECT_OK) + chunk(READ_OK)
write("idcard-session", "two-visits", visit)
write("idcard-session", "sam-broken", chunk(frame([0, 0, 0x60])) + tick(1000) + chunk(SAM_OK))
write("idcard-session", "silent-reader", tick(3000) + tick(3000) + tick(100) + chunk(SAM_OK))
write("idcard-session", "read-fails-then-works", chunk(SAM_OK) + chunk(FIND_PRESENT) + chunk(SELECT_OK) + chunk(READ_FAILED) + tick(300) + chunk(FIND_PRESENT) + chunk(SELECT_OK) + chunk(READ_OK))
write("idcard-session", "corrupt-answer", chunk(SAM_OK) + chunk(FIND_PRESENT[:-1] + b"\x00") + chunk(FIND_PRESENT) + chunk(SELECT_OK) + chunk(READ_OK[:400]) + tick(1600))
write("idcard-session", "one-read-chunk", chunk(SAM_OK + FIND_PRESENT + SELECT_OK + READ_OK))
write("idcard-session", "truncated-read-data", chunk(SAM_OK) + chunk(FIND_PRESENT) + chunk(SELECT_OK) + chunk(frame(bytes([0, 0, 0x90, 1, 0, 4, 0]) + BLOCK)))
write("idcard-session", "sam-recheck", chunk(SAM_OK) + chunk(FIND_NONE) + tick(5100) + chunk(SAM_OK) + chunk(FIND_NONE))

write("idcard-text", "resident", BLOCK)
write("idcard-text", "bad-check-digit", text_block("李四", "110105194912310021"))
write("idcard-text", "hk-permit", text_block("陈大文", "810000199001011234", card_type="J"))
write("idcard-text", "foreigner-2017", text_block("", "USA110099010101", card_type="I", authority="JOHN SMITH"))
bad = bytearray(BLOCK); bad[0:2] = b"\x00\xd8"
write("idcard-text", "lone-surrogate", bytes(bad))
write("idcard-text", "read-data", read_data(BLOCK, photo=16))
write("idcard-text", "zeros", bytes(256))

# --- RDM6300 -------------------------------------------------------------------------


def rdm(tag, version=1, lower=False):
    vals = [version, tag >> 24 & 0xFF, tag >> 16 & 0xFF, tag >> 8 & 0xFF, tag & 0xFF]
    chk = 0
    for v in vals:
        chk ^= v
    h = "".join("%02X" % v for v in vals + [chk])
    if lower:
        h = h.lower()
    return b"\x02" + h.encode() + b"\x03"


write("rdm6300", "card", rdm(12345678))
write("rdm6300", "repeats", rdm(12345678) * 3 + rdm(0xFFFFFFFF))
write("rdm6300", "lowercase", rdm(0xDEADBEEF, lower=True))
write("rdm6300", "noise", b"\xff\x00\x03" + rdm(1) + b"\x02\x02")
bad = bytearray(rdm(42)); bad[11] = ord("0") if bad[11] != ord("0") else ord("1")
write("rdm6300", "bad-checksum", bytes(bad) + rdm(42))
write("rdm6300", "not-hex", b"\x02" + b"0G00BC614E3B" + b"\x03" + rdm(7))
write("rdm6300", "no-etx", rdm(5)[:-1] + b"\x02" + rdm(6))

# --- line readers (first byte: framing) ---------------------------------------------
write("line", "any", b"\x00" + b"0012345678\r\n11010519491231002X\n\r\n")
write("line", "bad-id", b"\x00" + b"110105194912310021\r\n")
write("line", "prefix-suffix-crlf", bytes([3 | 1 << 2 | 1 << 4]) + b"ID:12345678;\r\nID:87654321\r\n12345;\r\n")
write("line", "too-long", bytes([0x40]) + b"1234567890123456789\n12\n")
write("line", "not-printable", b"\x01" + b"12\x0034\r" + b"ab cd\r" + "卡号".encode() + b"\r")
write("line", "lf-only", b"\x02" + b"abc123\rdef\n")
write("line", "stx-etx", bytes([2 << 2 | 2 << 4]) + b"\x0212345678\x03\n")

# --- HID input_event records (24 bytes; first two bytes: ms since the last record) ------


def ev(code, value=1, typ=1, ms=5):
    return struct.pack("<HHIQHHi", ms, 0, 0, 0, typ, code, value)


def keys(number, enter=28, ms=5, updown=True):
    out = b""
    for c in number:
        code = {"0": 11, "X": 45}.get(c, None)
        if code is None:
            code = int(c) + 1
        out += ev(code, 1, ms=ms)
        if updown:
            out += ev(code, 0, ms=1)
        out += ev(0, 0, typ=0, ms=0)
    return out + ev(enter, 1, ms=ms) + ev(enter, 0, ms=1)


write("hid", "card", keys("0012345678"))
write("hid", "id-number", ev(42, 1) + keys("11010519491231002X"))
write("hid", "keypad", b"".join(ev(c) for c in [79, 80, 81, 75, 76, 77, 71, 72, 73, 82]) + ev(96))
write("hid", "garbage", ev(30) + ev(31) + keys("1234"))
write("hid", "slow-burst", keys("12345678")[:-48] + ev(2, ms=900) + ev(28))
write("hid", "short", keys("12") + ev(28) + ev(2, value=2))
write("hid", "partial-record", keys("5555")[:30])

# --- TOML ------------------------------------------------------------------------------
cfg = os.path.join(os.path.dirname(ROOT), "..", "config")
station = open(os.path.join(cfg, "station.example.toml"), encoding="utf-8").read()
collector = open(os.path.join(cfg, "collector.example.toml"), encoding="utf-8").read()
write("toml", "station-example", station)
write("toml", "collector-example", collector)
minimal = '''[station]
id = "pt-shenjiamen-01"
name = "普工e家·沈家门站"
capacity = 12
data_dir = "/var/lib/yizhan"

[http]
listen = "127.0.0.1:8080"

[privacy]
region_key_file = "/etc/yizhan/region.key"

[[readers]]
name = "door"
protocol = "idcard-sam"
device = "/dev/ttyUSB0"

[[readers]]
name = "rfid"
protocol = "line"
line_terminator = "crlf"

[uplink]
collector = "https://collector.example.org"
token_file = "/etc/yizhan/station.token"
'''
write("toml", "station-minimal", minimal)
write("toml", "station-minimal-crlf", minimal.replace("\n", "\r\n"))
write("toml", "station-errors-crlf", "[station]\r\nid = \"x\"\r\ncapasity = 12\r\ncapacity = -1\r\n\r\n[http]\r\nlisten = \"nohost\"\r\n")
write("toml", "collector-minimal", '[http]\nlisten = "0.0.0.0:9090"\n[storage]\nurl = "sqlite:///var/lib/yizhan/collector.db"\n')
write("toml", "syntax-error", '[station]\nid = "a"\ncapacity = = 3\n')
write("toml", "unterminated", '[station]\nname = """never\nends\n')
write("toml", "duplicate-table", "[station]\nid = 1\n[station]\nid = 2\n")
write("toml", "types", '[station]\nid = 7\ncapacity = "12"\nname = ["a", 1]\nflag = 1979-05-27T07:32:00Z\nx = 0x1F\ny = inf\nz = { a = 1, b.c = "d" }\n"quoted key" = true\nlisten = "[::1]:99999"\n')
write("toml", "dotted", 'station.id = "a"\nstation.capacity = 3\n[http.listen]\nx = 1\n[[readers]]\n[[readers]]\nname = "b"\n')
write("toml", "empty", "")

# --- ingest and heartbeat bodies -----------------------------------------------------
KEY = hashlib.sha256(b"card").hexdigest()


def event(seq, kind="check_in", time="2026-11-23T10:00:00.000+08:00", key=KEY, hint="******5678", reader="door", occ=1, stay=None, detail=None):
    import json
    return json.dumps({"seq": seq, "time": time, "kind": kind, "card_key": key, "card_hint": hint, "reader": reader,
                       "occupancy": occ, "stay_seconds": stay, "detail": detail}, ensure_ascii=False, separators=(",", ":"))


def batch(*events, station="pt-demo-01"):
    return '{"station_id":"%s","events":[%s]}' % (station, ",".join(events))


write("ingest-json", "visits", batch(event(1), event(2, "check_out", "2026-11-23T10:42:10.250+08:00", occ=0, stay=2530), event(3, "duplicate", occ=0)))
write("ingest-json", "amenities", batch(event(10, "amenity", key=None, hint=None, reader=None, occ=0, detail="amenity=microwave status=out_of_order by=li note=门关不上"),
                                      event(11, "fault_report", key=None, hint=None, reader=None, occ=0, detail="amenity=water_dispenser note=漏水 leaking"),
                                      event(12, "rating", key=None, hint=None, reader=None, occ=0, detail="score=5")))
write("ingest-json", "out-of-order", batch(event(5), event(4)))
write("ingest-json", "bad-time", batch(event(1, time="2026-11-23T10:00:00"), event(2, time="1999-01-01T00:00:00Z")))
write("ingest-json", "nul-and-escapes", batch(event(1, reader="do\u0000or", detail="😀 \"quoted\" \\ \t"),
                                            event(2, detail="x").replace('"detail":"x"', '"detail":"\\ud800 \\ud83d\\ude00"')))
write("ingest-json", "figures", batch(event(9007199254740993, occ=100001, stay=-1)))
write("ingest-json", "empty", '{"station_id":"x","events":[]}')
write("ingest-json", "bad-detail", batch(event(1, "amenity", detail="amenity=Micro status=ok extra=1"), event(2, "rating", detail="score=6")))
write("ingest-json", "odd-json", '{"station_id":"x","events":[{"seq":1e0,"time":"2026-11-23T10:00:00Z","kind":"check_in","occupancy":-0,"card_key":"' + KEY.upper() + '"}],"extra":[[[[{}]]]]}')

hb = ('{"station_id":"pt-demo-01","time":"2026-11-23T10:00:00.000+08:00","occupancy":3,"capacity":12,"open":true,'
      '"readers":[{"name":"door","state":"up"},{"name":"rfid","state":"down"}],"amenities":{"microwave":"ok","water_dispenser":"out_of_order"},'
      '"backlog":0,"last_ack":41,"last_seq":41,"version":"0.4.0"}')
write("heartbeat-json", "real", hb)
write("heartbeat-json", "bad-amenity", hb.replace('"microwave":"ok"', '"Micro wave":"broken"'))
write("heartbeat-json", "bad-time", hb.replace("2026-11-23T10:00:00.000+08:00", "2026-11-23 10:00"))
write("heartbeat-json", "huge-figures", hb.replace('"backlog":0', '"backlog":9223372036854775807').replace('"occupancy":3', '"occupancy":-1'))
write("heartbeat-json", "missing-key", hb.replace('"version":"0.4.0"', '"versio":"x"'))
write("heartbeat-json", "nul-reader", hb.replace('"door"', '"do\\u0000or"'))

# --- RFC 3339 --------------------------------------------------------------------------
for i, t in enumerate(["2026-11-23T10:00:00Z", "2026-11-23T10:00:00.5+08:00", "2026-11-23t10:00:00.123456789-05:30",
                       "2024-02-29T23:59:59+14:00", "9999-12-31T23:59:59-14:59", "1970-01-01T00:00:00+14:00",
                       "2026-11-23 08:00", "2026-11-23", " 2026-11-23T10:00\n", "0000-01-01T00:00+14:00",
                       "2026-11-23T10:00:00++1:00", "2026-11-23T10:00:60Z", "2025-02-29T10:00:00Z",
                       "2026-11-23T10:00:00.1234567890Z", "+08:00", "-00:00", "2026-11-23T10:00:00.Z"]):
    write("rfc3339", "%02d" % i, t)

# --- gzip bodies ---------------------------------------------------------------------


def gz(data):
    return gzip.compress(data, mtime=0)


body = batch(event(1), event(2, "check_out", occ=0, stay=60)).encode()
write("gzip", "batch", gz(body))
write("gzip", "empty", gz(b""))
write("gzip", "trailing-junk", gz(b"hello") + b"junk")
write("gzip", "no-trailer", gz(body)[:-8])
bad = bytearray(gz(body)); bad[-5] ^= 0x40
write("gzip", "bad-crc", bytes(bad))
write("gzip", "two-members", gz(b"a") + gz(b"b"))
write("gzip", "bomb", gz(b"\x00" * 200000))
write("gzip", "zlib-not-gzip", zlib.compress(body))

# --- forms -----------------------------------------------------------------------------
write("form", "login", "name=li&password=correct+horse")
write("form", "nul", "name=li&password=right%00junk")
write("form", "manager", "csrf=0123abcd&amenity=microwave&status=out_of_order&note=%E9%97%A8%E5%85%B3%E4%B8%8D%E4%B8%8A")
write("form", "long-password", "name=li&password=" + "a" * 80)
write("form", "arrays", "name[]=a&name[]=b&password[x][y]=1")
write("form", "malformed", "%zz=%&&=&name=%E9%97&password=%")
write("form", "repeated", "name=a&name=b&csrf=&note")

# --- cookies ---------------------------------------------------------------------------
write("cookie", "session", "yizhan_session=3f2a9c")
write("cookie", "office", "theme=dark; yizhan_office=abc; other")
write("cookie", "attributes", "yizhan_session=x; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=10; SameSite=Strict; Secure; HttpOnly; Path=/manage")
write("cookie", "two-headers", "a=1\nyizhan_session=2; yizhan_session=3")
write("cookie", "odd", "=; ;;yizhan_session; yizhan_session==; \"q\"=\"v\"; 名=值")
print("seeds written under", ROOT)

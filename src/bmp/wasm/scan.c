/*
 * The decoder's fast path: Route Monitoring scanned in WebAssembly (built by scripts/build-wasm.sh into
 * scan-wasm.ts; loaded by fast-scan.ts). It is the same scan as src/bgp/update-scan.ts for the messages it accepts
 * and hands every other message back to JavaScript, so the TypeScript decoder stays the one definition of errors,
 * warnings and every unusual case. A differential test (test/unit/bmp/fast-scan.test.ts) holds the two together.
 *
 * Accepted: a Route Monitoring message of a peer in the session's table, whose UPDATE decodes with no error, no
 * warning, and without changing the ADD-PATH layout remembered for the peer. Handed back (DEFER): everything else.
 *
 * Memory (offsets exported as globals): `input` holds whole BMP frames copied by JavaScript; `records` receives
 * one record per accepted message (layout in fast-scan.ts, REC_*: a header, then its attributes) and `prefixes`
 * their prefix entries; peer tables live in memory JavaScript grows.
 */
typedef unsigned char u8;
typedef unsigned int u32;

#define INPUT_BYTES (1 << 20)
#define RECORD_INTS (1 << 18) /* ints each for records and prefixes: 1 MiB, room for 2 x 65,583 bytes of prefixes */
#define PEER_SLOTS 4096
#define SLOT_INTS 12 /* identity as 9 words, peer id (or -1), option bits, spare */

/* Stop reasons of scan_frames. */
#define STOP_END 0       /* every whole frame of the input was scanned */
#define STOP_PARTIAL 1   /* the frame at stop_pos does not fit in the input: copy from there */
#define STOP_DEFER 2     /* the frame at stop_pos is for JavaScript, or (stop_slot >= 0) its peer is not in the table */
#define STOP_FULL 3      /* no room for another record: read them, then continue from stop_pos */

/* Option bits of a peer slot. */
#define OPT_FOUR_OCTET_AS 1
#define OPT_TO_PEER 2
#define OPT_EXPECTED_SHIFT 4  /* 4 bits: path ids negotiated, per decoded family (see family_bit) */
#define OPT_KNOWN_SHIFT 8     /* 4 bits: the bytes showed a layout before, per family */
#define OPT_PREVIOUS_SHIFT 12 /* 4 bits: that layout had path ids */

/* Record header, in ints (the layout fast-scan.ts reads). */
#define R_FRAME 0
#define R_LENGTH 1
#define R_PEER 2
#define R_SIZE 3
#define R_UPDATE_START 4
#define R_UPDATE_END 5
#define R_ATTRS_START 6
#define R_ATTRS_END 7
#define R_ORIGIN 8
#define R_MED 9
#define R_LOCAL_PREF 10
#define R_WIDTHS 11
#define R_REACH 12 /* afi, safi, family, next hop start, next hop length, nlri start */
#define R_UNREACH 18 /* afi, safi, family, nlri start */
#define R_EOR 22 /* afi, safi */
#define R_ADDPATH_FALLBACKS 24
#define R_ASWIDTH_FALLBACKS 25
#define R_SECTIONS 26 /* withdrawn, nlri, mp reach, mp unreach: first, count, ipv6 | pathIds << 1 */
#define R_ATTR_COUNT 38
#define R_PREFIX_COUNT 39
#define R_PREFIX_AT 40 /* where its prefixes (offset, path id) start in `prefixes` */
#define R_HEADER 41

u8 input[INPUT_BYTES];
int records[RECORD_INTS];
int prefixes[RECORD_INTS];
int stop_pos = 0;
int stop_reason = 0;
int stop_slot = -1;

static const u8 *frame; /* the frame being scanned; every offset below is relative to it */
static int *rec;        /* its record */
static int *rec_attrs;
static int attr_count;
static int *rec_prefixes;
static int prefix_count;
static u32 stamps[256];
static u32 stamp = 0;
static int options;
static int addpath_fallbacks;
static int aswidth_fallbacks;

static const short known_flags[256] = {
  [1] = 0x40, [2] = 0x40, [3] = 0x40, [4] = 0x80, [5] = 0x40, [6] = 0x40, [7] = 0xc0, [8] = 0xc0, [9] = 0x80,
  [10] = 0x80, [16] = 0xc0, [17] = 0xc0, [18] = 0xc0, [32] = 0xc0,
};
/* Codes with an entry above (0 is never a known code, so a zero entry means "not checked"). */
static int is_known(int code) { return known_flags[code] != 0; }

static inline u32 rd32(const u8 *b) { return ((u32)b[0] << 24) | ((u32)b[1] << 16) | ((u32)b[2] << 8) | b[3]; }
static inline int rd16(const u8 *b) { return (b[0] << 8) | b[1]; }
/* A word as it lies in memory (for comparing and hashing identities, and the marker): one unaligned load. */
static inline u32 ld32(const u8 *b) {
  u32 v;
  __builtin_memcpy(&v, b, 4);
  return v;
}

void *memset(void *d, int c, unsigned long n) {
  u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}

/* Family index 0-3 of a decoded family (IPv4/IPv6 x unicast/multicast), or -1 for one kept raw. */
static int family_bit(int afi, int safi) {
  if (safi != 1 && safi != 2) return -1;
  if (afi != 1 && afi != 2) return -1;
  return (afi - 1) * 2 + (safi - 1);
}

/* indexNlriBlock: validate [pos, end) and append its entries; -1 when malformed. Sets *odd as it counts them. */
static int index_nlri(int pos, int end, int ipv6, int pathids, int *odd) {
  /* Locals, not the globals: stores through `out` could alias them and force reloads on every entry. */
  const u8 *b = frame;
  int *out = rec_prefixes;
  int n = prefix_count;
  int max = ipv6 ? 128 : 32, oddities = 0, zero = 0, entries = 0;
  while (pos < end) {
    u32 pid = 0;
    if (pathids) {
      if (end - pos < 5) return -1;
      if (b[pos]) oddities++;
      pid = rd32(b + pos);
      pos += 4;
    }
    int len = b[pos];
    if (len > max) return -1;
    int bytes = (len + 7) >> 3;
    if (end - pos - 1 < bytes) return -1;
    if ((len & 7) && (b[pos + bytes] & (0xff >> (len & 7)))) oddities++;
    if (!len) zero++;
    out[2 * n] = pos;
    out[2 * n + 1] = (int)pid;
    n++;
    entries++;
    pos += 1 + bytes;
  }
  prefix_count = n;
  *odd = entries > 1 ? oddities + zero : oddities;
  return 0;
}

/* scoreNlriLayout: -1 when the layout does not parse, else its oddities. */
static int score(int pos, int end, int ipv6, int pathids) {
  const u8 *b = frame;
  int max = ipv6 ? 128 : 32, oddities = 0, zero = 0, entries = 0;
  while (pos < end) {
    if (pathids) {
      if (end - pos < 5) return -1;
      if (b[pos]) oddities++;
      pos += 4;
    }
    int len = b[pos++];
    if (len > max) return -1;
    int bytes = (len + 7) >> 3;
    if (end - pos < bytes) return -1;
    if ((len & 7) && (b[pos + bytes - 1] & (0xff >> (len & 7)))) oddities++;
    if (!len) zero++;
    pos += bytes;
    entries++;
  }
  return entries > 1 ? oddities + zero : oddities;
}

/* chooseAddPathLayout; previous is -1 (unknown), 0 or 1. */
static int choose(int pos, int end, int ipv6, int expected, int previous) {
  int a = score(pos, end, ipv6, expected);
  if (a == 0 && previous != !expected) return expected;
  int b = score(pos, end, ipv6, !expected);
  if (b < 0) return expected;
  if (a < 0) return !expected;
  if (a < b) return expected;
  if (b < a) return !expected;
  return previous >= 0 ? previous : expected;
}

/*
 * indexBlock for a non-empty block. Returns 0, or -1 for anything JavaScript must handle: a malformed entry, or a
 * layout that differs from what the peer's table entry remembers (the scan would record it).
 */
static int index_block(int pos, int end, int afi, int safi, int section) {
  int bit = family_bit(afi, safi);
  int expected = (options >> (OPT_EXPECTED_SHIFT + bit)) & 1;
  int previous = (options >> (OPT_KNOWN_SHIFT + bit)) & 1 ? (options >> (OPT_PREVIOUS_SHIFT + bit)) & 1 : -1;
  int ipv6 = afi == 2;
  int first = prefix_count, odd = 0;
  int bad = index_nlri(pos, end, ipv6, expected, &odd);
  int pathids = expected;
  if (bad < 0 || odd > 0 || previous == !expected) {
    pathids = choose(pos, end, ipv6, expected, previous);
    if (pathids != expected || bad < 0) {
      prefix_count = first;
      bad = index_nlri(pos, end, ipv6, pathids, &odd);
    }
  }
  if (bad < 0) return -1;
  if (pathids != expected) addpath_fallbacks++;
  if (previous != pathids && (previous >= 0 || pathids != expected)) return -1;
  int *s = rec + R_SECTIONS + 3 * section;
  s[0] = first;
  s[1] = prefix_count - first;
  s[2] = ipv6 | (pathids << 1);
  return 0;
}

/* isValidAsPath */
static int valid_as_path(int pos, int end, int width) {
  while (pos < end) {
    if (end - pos < 2) return 0;
    int type = frame[pos], count = frame[pos + 1];
    if (type < 1 || type > 4 || count == 0) return 0;
    pos += 2 + count * width;
  }
  return pos == end;
}

/* checkAttribute for an accepted message: 0 valid, 1 valid with an AS-width fallback, -1 anything else. */
static inline int check_attribute(int code, int start, int end, int four) {
  const u8 *b = frame;
  int length = end - start;
  switch (code) {
    case 1:
      if (length != 1 || b[start] > 2) return -1;
      rec[R_ORIGIN] = b[start];
      return 0;
    case 2:
    case 17: {
      int preferred = code == 17 || four ? 4 : 2, width = preferred;
      if (!valid_as_path(start, end, width)) {
        int other = width == 4 ? 2 : 4;
        if (code == 17 || !valid_as_path(start, end, other)) return -1;
        width = other;
      }
      if (code == 2) rec[R_WIDTHS] = (rec[R_WIDTHS] & ~0xff) | width;
      else rec[R_WIDTHS] = (rec[R_WIDTHS] & ~0xff00) | (width << 8);
      return width == preferred ? 0 : 1;
    }
    case 3:
    case 9:
      return length == 4 ? 0 : -1;
    case 4:
      if (length != 4) return -1;
      rec[R_MED] = (int)rd32(b + start);
      return 0;
    case 5:
      if (length != 4) return -1;
      rec[R_LOCAL_PREF] = (int)rd32(b + start);
      return 0;
    case 6:
      return length == 0 ? 0 : -1;
    case 7:
      if (length != 6 && length != 8) return -1;
      return (length == 8) == (four != 0) ? 0 : 1;
    case 18:
      return length == 8 ? 0 : -1;
    case 8:
      return length % 4 == 0 ? 0 : -1;
    case 10:
      return length != 0 && length % 4 == 0 ? 0 : -1;
    case 16:
      return length % 8 == 0 ? 0 : -1;
    case 32:
      return length != 0 && length % 12 == 0 ? 0 : -1;
    case 14: {
      if (length < 5) return -1;
      int afi = rd16(b + start), safi = b[start + 2], hop = b[start + 3];
      int nlri = start + 4 + hop + 1;
      if (nlri > end) return -1;
      int family = family_bit(afi, safi) < 0 ? -1 : afi - 1;
      int *r = rec + R_REACH;
      r[0] = afi;
      r[1] = safi;
      r[2] = family;
      r[3] = start + 4;
      r[4] = hop;
      r[5] = nlri;
      if (family < 0 || nlri == end) return 0;
      return index_block(nlri, end, afi, safi, 2);
    }
    case 15: {
      if (length < 3) return -1;
      int afi = rd16(b + start), safi = b[start + 2];
      int family = family_bit(afi, safi) < 0 ? -1 : afi - 1;
      int *r = rec + R_UNREACH;
      r[0] = afi;
      r[1] = safi;
      r[2] = family;
      r[3] = start + 3;
      if (family < 0 || start + 3 == end) return 0;
      return index_block(start + 3, end, afi, safi, 3);
    }
    default:
      return 0; /* kept raw */
  }
}

/* scanUpdate for the UPDATE body [start, end) of `frame`: 0 when accepted, -1 when JavaScript must decide. */
static int scan_update(int start, int end) {
  const u8 *b = frame;
  if (end - start < 4) return -1;
  int withdrawn_length = rd16(b + start);
  int ws = start + 2, we = ws + withdrawn_length;
  if (we + 2 > end) return -1;
  int attrs_length = rd16(b + we);
  int as = we + 2, ae = as + attrs_length;
  if (ae > end) return -1;
  rec[R_UPDATE_START] = start;
  rec[R_UPDATE_END] = end;
  rec[R_ATTRS_START] = as;
  rec[R_ATTRS_END] = ae;
  if (ws < we && index_block(ws, we, 1, 1, 0) < 0) return -1;

  if (++stamp == 0) {
    memset(stamps, 0, sizeof stamps);
    stamp = 1;
  }
  /* Locals for the loop: stores into the record could alias globals and force reloads. */
  const u32 st = stamp;
  const int four = options & OPT_FOUR_OCTET_AS;
  int *attrs = rec_attrs;
  int n = 0, width_fallbacks = 0;
  int pos = as;
  while (pos < ae) {
    if (ae - pos < 3) return -1;
    int flags = b[pos], code = b[pos + 1], extended = flags & 0x10;
    if (extended && ae - pos < 4) return -1;
    int length = extended ? rd16(b + pos + 2) : b[pos + 2];
    int vs = pos + (extended ? 4 : 3), ve = vs + length;
    if (ve > ae) return -1;
    if (stamps[code] == st) return -1; /* a repeat: discarded with a warning, or fatal */
    stamps[code] = st;
    if (is_known(code) && (flags & 0xc0) != known_flags[code]) return -1;
    int checked = check_attribute(code, vs, ve, four);
    if (checked < 0) return -1;
    width_fallbacks += checked;
    int *a = attrs + 4 * n++;
    a[0] = code;
    a[1] = pos;
    a[2] = vs;
    a[3] = ve;
    pos = ve;
  }
  attr_count = n;
  aswidth_fallbacks = width_fallbacks;
  if (ae < end && index_block(ae, end, 1, 1, 1) < 0) return -1;

  int nlri_count = rec[R_SECTIONS + 3 * 1 + 1];
  int reach_count = rec[R_SECTIONS + 3 * 2 + 1];
  if (nlri_count + reach_count > 0) {
    /* A missing well-known attribute is reported (a warning): JavaScript's business. */
    if (stamps[1] != st || stamps[2] != st || (nlri_count > 0 && stamps[3] != st)) return -1;
  }
  /* End-of-RIB (RFC 4724 §2) */
  if (rec[R_SECTIONS + 1] == 0 && nlri_count == 0) {
    if (attrs_length == 0) {
      rec[R_EOR] = 1;
      rec[R_EOR + 1] = 1;
    } else if (attr_count == 1 && rec_attrs[0] == 15 && rec_attrs[3] - rec_attrs[2] == 3) {
      rec[R_EOR] = rec[R_UNREACH];
      rec[R_EOR + 1] = rec[R_UNREACH + 1];
    }
  }
  return 0;
}

/*
 * The table slot of the identity at `id` (34 bytes), by linear probing over PROBES slots from its hash: the slot
 * holding it (*hit set), else the first free one, else the first probed (to be overwritten).
 */
#define PROBES 8
static int peer_slot(const int *table, const u8 *id, int *hit) {
  u32 w[9];
  for (int k = 0; k < 8; k++) w[k] = ld32(id + 4 * k);
  w[8] = (u32)rd16(id + 32);
  u32 h = (w[0] ^ w[1] ^ w[2]) * 0x9e3779b1u;
  h = (h ^ w[3] ^ w[4]) * 0x85ebca6bu;
  h = (h ^ w[5] ^ w[6]) * 0xc2b2ae35u;
  h = (h ^ w[7] ^ w[8]) * 0x27d4eb2fu;
  h ^= h >> 15;
  int first = (int)((h >> 22) & (PEER_SLOTS - 1));
  *hit = 0;
  for (int p = 0; p < PROBES; p++) {
    int slot = (first + p) & (PEER_SLOTS - 1);
    const int *s = table + slot * SLOT_INTS;
    if (s[9] < 0) return slot;
    int same = 1;
    for (int k = 0; k < 9; k++)
      if ((u32)s[k] != w[k]) {
        same = 0;
        break;
      }
    if (same) {
      *hit = 1;
      return slot;
    }
  }
  return first;
}

/* Bytes a peer table takes (JavaScript allocates them). */
int table_bytes(void) { return PEER_SLOTS * SLOT_INTS * 4; }

void clear_table(int *table) {
  for (int i = 0; i < PEER_SLOTS; i++) table[i * SLOT_INTS + 9] = -1;
}

/* Remember the peer whose identity starts at input[at] in `slot`, as JavaScript's peer `peer` with `bits`. */
void register_peer(int *table, int slot, int at, int peer, int bits) {
  int *s = table + slot * SLOT_INTS;
  const u8 *id = input + at;
  for (int k = 0; k < 8; k++) s[k] = (int)ld32(id + 4 * k);
  s[8] = rd16(id + 32);
  s[9] = peer;
  s[10] = bits;
}

/* The slot the identity at input[at] maps to (for register_peer after a miss). */
int slot_of(int *table, int at) {
  int hit;
  return peer_slot(table, input + at, &hit);
}

/*
 * Scan the frames in input[from, length) against `table` (whole BMP frames, their common headers already checked
 * by the JavaScript framer). Returns the number of records written; stop_reason and stop_pos say why it stopped.
 */
int scan_frames(int *table, int from, int length) {
  int pos = from, used = 0, prefixes_used = 0, count = 0;
  stop_slot = -1;
  while (pos < length) {
    if (length - pos < 6) break;
    int size = (int)rd32(input + pos + 1);
    if (size > length - pos) break;
    frame = input + pos;
    if (frame[5] != 0 || size < 6 + 42 + 19) goto defer;
    {
      const u8 *g = frame + 48;
      if ((ld32(g) & ld32(g + 4) & ld32(g + 8) & ld32(g + 12)) != 0xffffffffu) goto defer;
      int bgp_length = rd16(g + 16);
      if (bgp_length < 19 || 48 + bgp_length != size || g[18] != 2) goto defer;
      /*
       * Room for the worst case: every code an attribute, every byte a one-byte prefix. The frame is at most
       * 48 + 65,535 bytes here (the BGP length is 16 bits), which always fits in empty buffers.
       */
      if (RECORD_INTS - used < R_HEADER + 4 * 256 || RECORD_INTS - prefixes_used < 2 * size) {
        stop_reason = STOP_FULL;
        stop_pos = pos;
        return count;
      }
      /* The headers are sound: a peer missing from the table is all JavaScript must add before the scan. */
      int hit;
      int slot = peer_slot(table, frame + 6, &hit);
      if (!hit) {
        stop_slot = slot;
        goto defer;
      }
      const int *s = table + slot * SLOT_INTS;
      rec = records + used;
      for (int i = 0; i < R_HEADER; i++) rec[i] = 0;
      rec[R_FRAME] = pos;
      rec[R_LENGTH] = size;
      rec[R_PEER] = s[9];
      rec[R_WIDTHS] = 4 | (4 << 8);
      rec[R_REACH + 2] = -1;
      rec[R_UNREACH + 2] = -1;
      options = s[10];
      rec_attrs = rec + R_HEADER;
      attr_count = 0;
      rec_prefixes = prefixes + prefixes_used;
      prefix_count = 0;
      addpath_fallbacks = 0;
      aswidth_fallbacks = 0;
      if (scan_update(48 + 19, size) < 0) goto defer;
      rec[R_ADDPATH_FALLBACKS] = addpath_fallbacks;
      rec[R_ASWIDTH_FALLBACKS] = aswidth_fallbacks;
      rec[R_ATTR_COUNT] = attr_count;
      rec[R_PREFIX_COUNT] = prefix_count;
      rec[R_PREFIX_AT] = prefixes_used;
      rec[R_SIZE] = R_HEADER + 4 * attr_count;
      used += rec[R_SIZE];
      prefixes_used += 2 * prefix_count;
      count++;
      pos += size;
      continue;
    }
  defer:
    stop_reason = STOP_DEFER;
    stop_pos = pos;
    return count;
  }
  stop_pos = pos;
  stop_reason = pos == length ? STOP_END : STOP_PARTIAL;
  return count;
}

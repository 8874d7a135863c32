// Experiment, not part of bmpwatch (see README.md): most of the checks of BmpSessionDecoder.scan for Route
// Monitoring, in C compiled to WebAssembly, framing and scanning a whole chunk per call. It measures what a scan
// outside JavaScript would cost. Left out: ADD-PATH from the Peer Up (the layout is chosen from the bytes alone),
// the AS width from the A flag, warnings and their offsets, End-of-RIB, and handing results back to JavaScript.
typedef unsigned char u8; typedef unsigned int u32;
#define PEER_SLOTS 1024
static u32 slot_words[PEER_SLOTS * 9];
static int slot_used[PEER_SLOTS];
static int prefix_off[70000];
static u32 prefix_pid[70000];
static u32 stamps[256];
static u32 stamp = 0;
static int known_flags[256];
static int inited = 0;
u32 errors = 0, prefixes = 0, messages = 0;

static inline u32 rd32(const u8 *b) { return ((u32)b[0] << 24) | ((u32)b[1] << 16) | ((u32)b[2] << 8) | b[3]; }
static inline u32 rd16(const u8 *b) { return ((u32)b[0] << 8) | b[1]; }

static int index_nlri(const u8 *buf, int pos, int end, int ipv6, int pathid, int n, int *oddities) {
  int max = ipv6 ? 128 : 32; int odd = 0, zero = 0, first = n;
  while (pos < end) {
    u32 pid = 0;
    if (pathid) { if (end - pos < 5) return -1; if (buf[pos]) odd++; pid = rd32(buf + pos); pos += 4; }
    int len = buf[pos]; if (len > max) return -1;
    int bc = (len + 7) >> 3; if (end - pos - 1 < bc) return -1;
    if ((len & 7) && (buf[pos + bc] & (0xff >> (len & 7)))) odd++;
    if (!len) zero++;
    prefix_off[n] = pos; prefix_pid[n] = pid; n++;
    pos += 1 + bc;
  }
  *oddities = (n - first > 1) ? odd + zero : odd;
  return n;
}

static int index_block(const u8 *f, int pos, int end, int ipv6, int n) {
  int odd = 0; int m = index_nlri(f, pos, end, ipv6, 0, n, &odd);
  if (m >= 0 && odd == 0) return m;
  int odd2 = 0; int m2 = index_nlri(f, pos, end, ipv6, 1, n, &odd2);
  if (m2 >= 0 && (m < 0 || odd2 < odd)) return m2;
  return m >= 0 ? index_nlri(f, pos, end, ipv6, 0, n, &odd) : -1;
}

static int scan_update(const u8 *f, int s, int end) {
  if (end - s < 4) return -1;
  int wl = rd16(f + s), ws = s + 2, we = ws + wl; if (we + 2 > end) return -1;
  int al = rd16(f + we), as = we + 2, ae = as + al; if (ae > end) return -1;
  int n = 0;
  if (ws < we) { n = index_block(f, ws, we, 0, n); if (n < 0) return -1; }
  if (++stamp == 0) { for (int i = 0; i < 256; i++) stamps[i] = 0; stamp = 1; }
  int pos = as, taw = 0;
  while (pos < ae) {
    if (ae - pos < 3) { taw = 1; break; }
    int fl = f[pos], code = f[pos + 1], ext = fl & 0x10;
    if (ext && ae - pos < 4) { taw = 1; break; }
    int len = ext ? rd16(f + pos + 2) : f[pos + 2];
    int vs = pos + (ext ? 4 : 3), ve = vs + len;
    if (ve > ae) { if (code == 14 || code == 15) return -1; taw = 1; break; }
    pos = ve;
    if (stamps[code] == stamp) { if (code == 14 || code == 15) return -1; continue; }
    stamps[code] = stamp;
    int kf = known_flags[code];
    if (kf >= 0 && (fl & 0xc0) != kf) { taw = 1; continue; }
    switch (code) {
      case 1: if (len != 1 || f[vs] > 2) taw = 1; break;
      case 2: case 17: { int w = 4, r = vs; while (r < ve) { if (ve - r < 2) { taw = 1; break; } int t = f[r], c = f[r + 1]; if (t < 1 || t > 4 || !c) { taw = 1; break; } r += 2 + c * w; } if (r != ve) taw = 1; break; }
      case 3: case 4: case 5: case 9: if (len != 4) taw = 1; break;
      case 6: if (len) taw = 1; break;
      case 7: if (len != 8 && len != 6) taw = 1; break;
      case 8: if (len % 4) taw = 1; break;
      case 10: if (!len || len % 4) taw = 1; break;
      case 16: if (len % 8) taw = 1; break;
      case 32: if (!len || len % 12) taw = 1; break;
      case 14: { if (len < 5) return -1; int afi = rd16(f + vs), nhl = f[vs + 3], ns = vs + 5 + nhl; if (ns > ve) return -1; if (ns < ve) { n = index_block(f, ns, ve, afi == 2, n); if (n < 0) return -1; } break; }
      case 15: { if (len < 3) return -1; int afi = rd16(f + vs); if (vs + 3 < ve) { n = index_block(f, vs + 3, ve, afi == 2, n); if (n < 0) return -1; } break; }
      default: break;
    }
  }
  if (ae < end) { n = index_block(f, ae, end, 0, n); if (n < 0) return -1; }
  (void)taw;
  return n;
}

static int peer_entry(const u8 *p) {
  u32 w[9]; for (int k = 0; k < 8; k++) w[k] = rd32(p + 4 * k); w[8] = rd16(p + 32);
  u32 h = (w[0] ^ w[1] ^ w[2]) * 0x9e3779b1u; h = (h ^ w[3] ^ w[4]) * 0x85ebca6bu; h = (h ^ w[5] ^ w[6]) * 0xc2b2ae35u; h = (h ^ w[7] ^ w[8]) * 0x27d4eb2fu; h ^= h >> 15;
  int slot = (h >> 22) & (PEER_SLOTS - 1); u32 *sw = slot_words + slot * 9;
  if (slot_used[slot]) { int same = 1; for (int k = 0; k < 9; k++) if (sw[k] != w[k]) { same = 0; break; } if (same) return slot; }
  for (int k = 0; k < 9; k++) sw[k] = w[k]; slot_used[slot] = 1; return slot;
}

// Frames and scans [buf, buf+len); returns the bytes consumed (whole messages).
int scan_chunk(const u8 *buf, int len) {
  if (!inited) { for (int i = 0; i < 256; i++) known_flags[i] = -1; known_flags[1]=0x40; known_flags[2]=0x40; known_flags[3]=0x40; known_flags[4]=0x80; known_flags[5]=0x40; known_flags[6]=0x40; known_flags[7]=0xc0; known_flags[8]=0xc0; known_flags[9]=0x80; known_flags[10]=0x80; known_flags[16]=0xc0; known_flags[17]=0xc0; known_flags[18]=0xc0; known_flags[32]=0xc0; inited = 1; }
  int pos = 0;
  while (len - pos >= 6) {
    if (buf[pos] != 3) return -1;
    u32 mlen = rd32(buf + pos + 1); if (mlen < 6 || mlen > (1u << 20)) return -1;
    if ((u32)(len - pos) < mlen) break;
    const u8 *f = buf + pos; int end = (int)mlen;
    messages++;
    if (f[5] == 0 && end >= 48 + 19) {
      peer_entry(f + 6);
      const u8 *g = f + 48;
      if ((rd32(g) & rd32(g + 4) & rd32(g + 8) & rd32(g + 12)) != 0xffffffffu || g[18] != 2 || 48 + (int)rd16(g + 16) != end) errors++;
      else { int n = scan_update(f, 48 + 19, end); if (n < 0) errors++; else prefixes += n; }
    }
    pos += end;
  }
  return pos;
}
void *memset(void *d, int c, unsigned long n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }

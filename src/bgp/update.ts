/**
 * BGP UPDATE (RFC 4271 §4.3), after the 19-byte header:
 *
 *   Withdrawn Routes Length (2) | Withdrawn Routes | Total Path Attribute Length (2) | Path Attributes | NLRI
 *
 * The result lists what the UPDATE means for a RIB — `announced` and `withdrawn` across IPv4 and MP families —
 * with RFC 7606 applied: a treat-as-withdraw UPDATE announces nothing and withdraws everything it carried.
 */
import { decodePathAttributes, type AttributeDecodeInput } from './attributes/index.js';
import { chooseAddPathLayout, decodeNlriBlock } from './nlri.js';
import { directionalKey, type Direction, type SessionContext } from './session-context.js';
import { AFI_IPV4, SAFI_UNICAST, type AttributeWarning, type BgpUpdate, type Family, type Nlri } from './types.js';
import type { AddPathChooser } from './attributes/mp-reach.js';
import { decodeError, truncated } from '../wire/decode-error.js';
import { err, ok, type Result } from '../wire/result.js';

export interface UpdateDecodeOptions {
  readonly session: SessionContext;
  readonly direction: Direction;
  /** ASN width on the wire: the BMP A flag (RFC 7854 §4.2), else the negotiation. */
  readonly fourOctetAs: boolean;
}

/** Picks the path-id layout per NLRI block, remembering what the bytes showed and counting contradictions. */
class SessionAddPathChooser implements AddPathChooser {
  fallbacks = 0;
  constructor(private readonly options: UpdateDecodeOptions) {}

  choose(buf: Buffer, start: number, end: number, afi: number, safi: number, family: Family): boolean {
    const { session, direction } = this.options;
    const key = directionalKey(direction, afi, safi);
    const negotiatedSet = direction === 'from-peer' ? session.addPathFromPeer : session.addPathToPeer;
    const expected = negotiatedSet.has(key & 0xffff);
    const previous = session.observedAddPath.get(key);
    const chosen = chooseAddPathLayout(buf, start, end, family, expected, previous);
    if (start < end) {
      if (chosen !== expected) this.fallbacks++;
      session.observedAddPath.set(key, chosen);
    }
    return chosen;
  }
}

export function decodeUpdate(buf: Buffer, start: number, end: number, options: UpdateDecodeOptions): Result<BgpUpdate> {
  if (end - start < 4) return err(truncated('bgp', start, 'UPDATE', 4, end - start));
  const withdrawnLength = buf.readUInt16BE(start);
  const withdrawnStart = start + 2;
  const withdrawnEnd = withdrawnStart + withdrawnLength;
  if (withdrawnEnd + 2 > end) {
    return err(decodeError('bgp', 'length-mismatch', start, `withdrawn routes length ${withdrawnLength} overruns the UPDATE`));
  }
  const attributesLength = buf.readUInt16BE(withdrawnEnd);
  const attributesStart = withdrawnEnd + 2;
  const attributesEnd = attributesStart + attributesLength;
  if (attributesEnd > end) {
    return err(decodeError('bgp', 'length-mismatch', withdrawnEnd, `path attribute length ${attributesLength} overruns the UPDATE`));
  }

  const chooser = new SessionAddPathChooser(options);
  const withdrawnRoutes: Nlri[] = [];
  const withdrawnPathIds = chooser.choose(buf, withdrawnStart, withdrawnEnd, AFI_IPV4, SAFI_UNICAST, 'ipv4');
  const badWithdrawn = decodeNlriBlock(buf, withdrawnStart, withdrawnEnd, 'ipv4', withdrawnPathIds, withdrawnRoutes);
  if (badWithdrawn !== null) return err(decodeError('bgp', 'bad-prefix-length', badWithdrawn, 'malformed prefix in Withdrawn Routes'));

  const input: AttributeDecodeInput = { fourOctetAs: options.fourOctetAs, addPath: chooser };
  const decoded = decodePathAttributes(buf, attributesStart, attributesEnd, input);
  if ('code' in decoded) return err(decoded);
  const { attributes, warnings } = decoded;

  const nlri: Nlri[] = [];
  const nlriPathIds = chooser.choose(buf, attributesEnd, end, AFI_IPV4, SAFI_UNICAST, 'ipv4');
  const badNlri = decodeNlriBlock(buf, attributesEnd, end, 'ipv4', nlriPathIds, nlri);
  if (badNlri !== null) return err(decodeError('bgp', 'bad-prefix-length', badNlri, 'malformed prefix in NLRI'));

  const announcedAll = attributes.mpReach ? [...nlri, ...attributes.mpReach.nlri] : nlri;
  if (announcedAll.length > 0) checkMandatory(decoded.present, nlri.length > 0, attributesEnd, warnings);
  const treatAsWithdraw = warnings.some((w) => w.action === 'treat-as-withdraw');
  const withdrawnAll = attributes.mpUnreach ? [...withdrawnRoutes, ...attributes.mpUnreach.withdrawn] : withdrawnRoutes;

  const update: BgpUpdate = {
    type: 'update',
    withdrawnRoutes,
    attributes,
    attributesKey: decoded.key,
    nlri,
    announced: treatAsWithdraw ? [] : announcedAll,
    withdrawn: treatAsWithdraw ? [...withdrawnAll, ...announcedAll] : withdrawnAll,
    treatAsWithdraw,
    warnings,
    addPathFallbacks: chooser.fallbacks,
    asWidthFallbacks: decoded.asWidthFallbacks,
  };
  const endOfRib = detectEndOfRib(update, attributesLength, decoded.present.size);
  return ok(endOfRib ? { ...update, endOfRib } : update);
}

/**
 * RFC 7606 §3(d) would make a missing well-known attribute treat-as-withdraw for a BGP speaker; a monitor reports
 * it and keeps the routes (see AttributeAction 'report-only').
 */
function checkMandatory(present: ReadonlySet<number>, hasIPv4Nlri: boolean, offset: number, warnings: AttributeWarning[]): void {
  const missing: string[] = [];
  if (!present.has(1)) missing.push('ORIGIN');
  if (!present.has(2)) missing.push('AS_PATH');
  if (hasIPv4Nlri && !present.has(3)) missing.push('NEXT_HOP');
  if (missing.length > 0) {
    warnings.push({ code: 0, action: 'report-only', offset, detail: `missing well-known attribute ${missing.join(', ')}` });
  }
}

/**
 * RFC 4724 §2: End-of-RIB is an UPDATE with nothing in it (IPv4 unicast), or with only an empty MP_UNREACH_NLRI
 * for the family.
 */
function detectEndOfRib(update: BgpUpdate, attributesLength: number, wireAttributes: number): { afi: number; safi: number } | undefined {
  if (update.withdrawnRoutes.length > 0 || update.nlri.length > 0) return undefined;
  if (attributesLength === 0) return { afi: AFI_IPV4, safi: SAFI_UNICAST };
  const { attributes } = update;
  const keys = Object.keys(attributes);
  if (keys.length === 1 && wireAttributes === 1 && attributes.mpUnreach && attributes.mpUnreach.withdrawn.length === 0 && !attributes.mpUnreach.rawNlriHex) {
    return { afi: attributes.mpUnreach.afi, safi: attributes.mpUnreach.safi };
  }
  return undefined;
}

/**
 * BGP UPDATE as a JSON-safe BgpUpdate: update-scan.ts decodes and checks the bytes, this module turns the scan
 * into values. `announced` and `withdrawn` list what the UPDATE means for a RIB across IPv4 and MP families, with
 * RFC 7606 applied: a treat-as-withdraw UPDATE announces nothing and withdraws everything it carried.
 */
import { attributesKeyOf, materializeAttributes } from './attributes/index.js';
import { materializeSection } from './nlri.js';
import { scanUpdate, UpdateScan, type UpdateScanOptions } from './update-scan.js';
import type { BgpUpdate, Nlri } from './types.js';
import { err, ok, type Result } from '../wire/result.js';

export type UpdateDecodeOptions = UpdateScanOptions;

/** Scratch scan for decodeUpdate: decoding is synchronous, so one per process is enough. */
const sharedScan = new UpdateScan();

export function decodeUpdate(buf: Buffer, start: number, end: number, options: UpdateDecodeOptions): Result<BgpUpdate> {
  const problem = scanUpdate(buf, start, end, options, sharedScan);
  return problem ? err(problem) : ok(materializeUpdate(sharedScan));
}

export function materializeUpdate(scan: UpdateScan): BgpUpdate {
  const { buf, prefixes } = scan;
  const attributes = materializeAttributes(scan);
  const withdrawnRoutes = materializeSection(buf, scan.withdrawnRoutes, prefixes, []);
  const nlri = materializeSection(buf, scan.nlri, prefixes, []);
  const mpNlri = attributes.mpReach?.nlri;
  const announcedAll: Nlri[] = mpNlri && mpNlri.length > 0 ? [...nlri, ...mpNlri] : nlri;
  const mpWithdrawn = attributes.mpUnreach?.withdrawn;
  const withdrawnAll: Nlri[] = mpWithdrawn && mpWithdrawn.length > 0 ? [...withdrawnRoutes, ...mpWithdrawn] : withdrawnRoutes;
  const treatAsWithdraw = scan.treatAsWithdraw;
  const update: BgpUpdate = {
    type: 'update',
    withdrawnRoutes,
    attributes,
    attributesKey: attributesKeyOf(scan),
    nlri,
    announced: treatAsWithdraw ? [] : announcedAll,
    withdrawn: treatAsWithdraw ? [...withdrawnAll, ...announcedAll] : withdrawnAll,
    treatAsWithdraw,
    warnings: scan.warnings.slice(),
    addPathFallbacks: scan.addPathFallbacks,
    asWidthFallbacks: scan.asWidthFallbacks,
  };
  return scan.endOfRibAfi === 0 ? update : { ...update, endOfRib: { afi: scan.endOfRibAfi, safi: scan.endOfRibSafi } };
}

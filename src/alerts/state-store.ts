/**
 * Where alert state lives between restarts: alerts (firing and recently resolved) and silences.
 *
 * The interface is synchronous on purpose: the alert manager runs inside the event pipeline, and the embedded
 * store (better-sqlite3) is synchronous, so a transition is on disk before the next event is processed. An
 * implementation must make each call durable on return (or as durable as it promises) and must not throw for
 * ordinary conditions (log and continue); a throw is caught by the consumer and logged.
 *
 * InMemoryAlertStateStore keeps everything in memory (tests, and until the SQLite store is wired in).
 */
import type { AlertRecord, Silence } from './types.js';

export interface AlertStateStore {
  /** Every stored alert (firing and resolved), any order. */
  loadAlerts(): AlertRecord[];
  /** Insert or replace by fingerprint. */
  saveAlert(alert: AlertRecord): void;
  deleteAlert(fingerprint: string): void;
  /** Every stored silence, including expired ones not yet deleted. */
  loadSilences(): Silence[];
  /** Insert or replace by id. */
  saveSilence(silence: Silence): void;
  deleteSilence(id: string): void;
}

export class InMemoryAlertStateStore implements AlertStateStore {
  private readonly alerts = new Map<string, AlertRecord>();
  private readonly silences = new Map<string, Silence>();

  loadAlerts(): AlertRecord[] {
    return [...this.alerts.values()];
  }

  saveAlert(alert: AlertRecord): void {
    this.alerts.set(alert.fingerprint, alert);
  }

  deleteAlert(fingerprint: string): void {
    this.alerts.delete(fingerprint);
  }

  loadSilences(): Silence[] {
    return [...this.silences.values()];
  }

  saveSilence(silence: Silence): void {
    this.silences.set(silence.id, silence);
  }

  deleteSilence(id: string): void {
    this.silences.delete(id);
  }
}

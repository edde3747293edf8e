/**
 * What became of each recommendation (dismissed, applied, confirmed …), kept in
 * `<dataDir>/recommendations.json` so that it survives a restart; in memory only for `:memory:`.
 *
 * Writes are atomic and off the event loop: the whole file is written to `recommendations.json.tmp`,
 * fsynced, and renamed over the old one (a crash leaves the old file or the new one, never half of one);
 * changes made while a write runs are coalesced into the next write. A file that cannot be read is moved
 * aside to `recommendations.json.unreadable` and the server starts with no states, saying so in its log.
 *
 * Each record keeps the recommendation as it was when its state changed, so that it can still be shown
 * once its evidence has left the window or the retention, and, once applied, its outcome (the figure before
 * and after: see outcome.ts). Files written before outcomes existed have records without one: they read as
 * `outcome: null`.
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  RECOMMENDATION_STATES,
  type Recommendation,
  type RecommendationKind,
  type RecommendationOutcome,
  type RecommendationState,
} from '../model/index.ts';

/** The state of one recommendation, as saved. */
export interface StateRecord {
  id: string;
  key: string;
  kind: RecommendationKind;
  state: RecommendationState;
  /** When the state was set, ISO-8601. */
  changedAt: string;
  reason: string | null;
  /** Once applied: the figure before and after (absent in files written before outcomes existed). */
  outcome?: RecommendationOutcome | null;
  /** The recommendation when its state was set. */
  snapshot: Recommendation;
}

/** Options of {@link RecommendationStates.open}. */
export interface StatesOptions {
  /** The file, or undefined to keep the states in memory only. */
  file?: string | undefined;
  /** Where failures to read or write go (default: nowhere). */
  log?: (message: string, err?: unknown) => void;
}

const FILE_VERSION = 1;

/** The saved states, read once at start and written on every change. */
export class RecommendationStates {
  private readonly records = new Map<string, StateRecord>();
  private writing: Promise<void> | undefined;
  private dirty = false;

  private constructor(private readonly o: StatesOptions) {}

  /** Reads the file when there is one. Never throws on a bad file: it is moved aside and logged. */
  static async open(o: StatesOptions = {}): Promise<RecommendationStates> {
    const states = new RecommendationStates(o);
    if (o.file && existsSync(o.file)) {
      try {
        const data = JSON.parse(await readFile(o.file, 'utf8')) as { records?: unknown };
        if (!Array.isArray(data.records)) throw new Error('no records array');
        for (const r of data.records as StateRecord[]) {
          if (typeof r?.id !== 'string' || !RECOMMENDATION_STATES.includes(r.state) || !r.snapshot)
            throw new Error(`a record is malformed: ${JSON.stringify(r).slice(0, 200)}`);
          const outcome = r.outcome ?? r.snapshot.outcome ?? null;
          states.records.set(r.id, { ...r, outcome, snapshot: { ...r.snapshot, outcome } });
        }
      } catch (err) {
        states.records.clear();
        o.log?.(`${o.file} is unreadable: moved to ${o.file}.unreadable, starting with no states`, err);
        await rename(o.file, `${o.file}.unreadable`).catch(() => {});
      }
    }
    return states;
  }

  /** The record of an id, if its state was ever set. */
  get(id: string): StateRecord | undefined {
    return this.records.get(id);
  }

  /** Every record. */
  list(): StateRecord[] {
    return [...this.records.values()];
  }

  /**
   * Sets the state of a recommendation and schedules the write.
   * @param atMs - when, ms since the epoch.
   * @param outcome - the figure before and after, for `applied`, `confirmed` and `not-confirmed`.
   */
  set(
    rec: Recommendation,
    state: RecommendationState,
    reason: string | null,
    atMs: number,
    outcome: RecommendationOutcome | null = null,
  ): StateRecord {
    const changedAt = new Date(atMs).toISOString();
    const record: StateRecord = {
      id: rec.id,
      key: rec.key,
      kind: rec.kind,
      state,
      changedAt,
      reason,
      outcome,
      snapshot: { ...rec, state, stateChangedAt: changedAt, stateReason: reason, outcome },
    };
    this.records.set(rec.id, record);
    this.schedule();
    return record;
  }

  /** Resolves once every change made so far is on disk (at once in memory). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private schedule(): void {
    const file = this.o.file;
    if (!file) return;
    this.dirty = true;
    if (this.writing) return;
    this.writing = (async () => {
      while (this.dirty) {
        this.dirty = false;
        const body = JSON.stringify({ version: FILE_VERSION, records: this.list() }, null, 1);
        const tmp = `${file}.tmp`;
        try {
          await mkdir(dirname(file), { recursive: true });
          const h = await open(tmp, 'w');
          try {
            await h.writeFile(body);
            await h.sync();
          } finally {
            await h.close();
          }
          await rename(tmp, file);
        } catch (err) {
          this.o.log?.(`could not save the recommendation states to ${file}`, err);
        }
      }
    })().finally(() => {
      this.writing = undefined;
    });
  }
}

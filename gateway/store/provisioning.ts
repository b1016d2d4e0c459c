import type { Clock } from '../core/clock.ts';
import { uuidv7 } from '../core/ids.ts';
import type { Db } from './db.ts';
import type { GroupCommitWriter } from './writer.ts';

export interface NaturalVillage {
  id: string;
  name: string;
  /** Cameras at its main intersections (ids of onvif_camera devices). */
  cameras: string[];
}

export interface ConfigChange {
  id: string;
  at: number;
  actor: string;
  summary: string;
  outcome: string;
}

export interface StoredAcceptance {
  id: string;
  at: number;
  installer: string;
  report: unknown;
}

/**
 * What the installer records besides the site file: the natural villages
 * (自然村) of an administrative village for the coverage check, signed
 * acceptance reports, and the history of config changes (with the file
 * before and after, for a manual rollback).
 */
export class ProvisioningStore {
  constructor(
    private readonly writer: GroupCommitWriter,
    private readonly reader: Db,
    private readonly clock: Clock,
  ) {}

  async villages(): Promise<NaturalVillage[]> {
    const rows = await this.reader.all<{ id: string; name: string; cameras: string }>('SELECT id, name, cameras FROM natural_villages ORDER BY name');
    return rows.map((r) => ({ id: r.id, name: r.name, cameras: JSON.parse(r.cameras) }));
  }

  /** Replace the list of natural villages. */
  setVillages(list: readonly { id?: string; name: string; cameras: readonly string[] }[]): Promise<NaturalVillage[]> {
    const now = this.clock.now();
    const rows = list.map((v) => ({ id: v.id ?? uuidv7(now), name: v.name, cameras: [...v.cameras] }));
    return this.writer.submit({
      build: () => ({
        statements: [
          { sql: 'DELETE FROM natural_villages', params: [] },
          ...rows.map((v) => ({
            sql: 'INSERT INTO natural_villages (id, name, cameras, updated_at) VALUES (?, ?, ?, ?)',
            params: [v.id, v.name, JSON.stringify(v.cameras), now],
          })),
        ],
        result: rows,
      }),
    });
  }

  async saveAcceptance(installer: string, report: unknown): Promise<StoredAcceptance> {
    const at = this.clock.now();
    const id = uuidv7(at);
    await this.writer.submit({
      sync: 'full',
      build: () => ({
        statements: [
          { sql: 'INSERT INTO acceptance_reports (id, at, installer, report) VALUES (?, ?, ?, ?)', params: [id, at, installer, JSON.stringify(report)] },
        ],
        result: undefined,
      }),
    });
    return { id, at, installer, report };
  }

  async acceptance(id: string): Promise<StoredAcceptance | undefined> {
    const r = await this.reader.get<{ id: string; at: number; installer: string; report: string }>('SELECT * FROM acceptance_reports WHERE id = ?', [id]);
    return r ? { ...r, report: JSON.parse(r.report) } : undefined;
  }

  async acceptances(limit = 20): Promise<Omit<StoredAcceptance, 'report'>[]> {
    return this.reader.all('SELECT id, at, installer FROM acceptance_reports ORDER BY at DESC LIMIT ?', [limit]);
  }

  async recordConfigChange(c: { actor: string; summary: string; outcome: string; before: string | null; after: string | null }): Promise<ConfigChange> {
    const at = this.clock.now();
    const id = uuidv7(at);
    await this.writer.submit({
      sync: 'full',
      build: () => ({
        statements: [
          {
            sql: 'INSERT INTO config_changes (id, at, actor, summary, outcome, before_text, after_text) VALUES (?, ?, ?, ?, ?, ?, ?)',
            params: [id, at, c.actor, c.summary, c.outcome, c.before, c.after],
          },
        ],
        result: undefined,
      }),
    });
    return { id, at, actor: c.actor, summary: c.summary, outcome: c.outcome };
  }

  async configChanges(limit = 50): Promise<ConfigChange[]> {
    return this.reader.all('SELECT id, at, actor, summary, outcome FROM config_changes ORDER BY at DESC LIMIT ?', [limit]);
  }
}

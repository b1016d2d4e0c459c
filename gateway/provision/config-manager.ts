import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { parseDocument } from 'yaml';
import { loadConfigFile, type ConfigProblem } from '../../config/load.ts';
import type { SiteConfig } from '../../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import type { AuditStore } from '../store/audit.ts';
import type { ProvisioningStore } from '../store/provisioning.ts';
import { diffConfigs, type ConfigDiff } from './config-diff.ts';

/** A running part that must be restarted when some of the config changes. */
export interface Reconfigurable {
  name: string;
  /** Whether a change from prev to next concerns this part. */
  affected(prev: SiteConfig, next: SiteConfig): boolean;
  /** Restart with `next`; throws when it fails to start (the manager then rolls everything back). */
  apply(next: SiteConfig): Promise<void>;
}

export type Checked =
  { ok: true; config: SiteConfig; diff: ConfigDiff; restarts: string[]; restartRequired: string[] } | { ok: false; problems: ConfigProblem[] };

export type Applied =
  | { ok: true; unchanged: boolean; diff: ConfigDiff; restarted: string[]; restartRequired: string[]; persisted: boolean }
  | { ok: false; problems: ConfigProblem[] }
  | { ok: false; rolledBack: true; error: string; failedPart: string; diff: ConfigDiff };

/** Areas a part restarts for when the gateway runs (the rest take effect at the next gateway start). */
const LIVE_AREAS = new Set(['devices', 'mqttBridges', 'broker', 'grids', 'site', 'rules', 'upstream']);

/**
 * The site file as the installer changes it from the panel: validate an
 * upload with the same loader as `gw check-config`, show a dry-run diff,
 * apply by restarting only the parts the change concerns, and put the old
 * file and the old parts back when any of them fails to start.
 */
export class ConfigManager {
  private config: SiteConfig;
  private text: string | null;
  private parts: Reconfigurable[] = [];
  private busy: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly o: {
      /** The site file the gateway was started with (null: changes apply in memory only). */
      file: string | null;
      config: SiteConfig;
      /** Where uploads are checked when there is no site file. */
      scratchDir: string;
      provisioning: ProvisioningStore;
      audit: AuditStore;
      clock: Clock;
      log: Logger;
    },
  ) {
    this.config = o.config;
    this.text = null;
  }

  /** Read the site file's text (kept to export it and to restore it on a rollback). */
  async init(): Promise<void> {
    if (this.o.file) this.text = await readFile(this.o.file, 'utf8');
  }

  register(part: Reconfigurable): void {
    this.parts.push(part);
  }

  current(): SiteConfig {
    return this.config;
  }

  get file(): string | null {
    return this.o.file;
  }

  /**
   * Keep a secret the box must be able to send (a camera's ONVIF password) in its own file beside the site
   * file (mode 0600), so the site file holds only `{ file: secrets/<name> }`. Returns that relative path.
   */
  async writeSecret(name: string, value: string): Promise<string> {
    if (!this.o.file) throw new Error('the gateway was started without a site file: there is nowhere to keep the secret');
    if (!/^[a-z0-9][a-z0-9_.-]{0,80}$/.test(name)) throw new Error(`bad secret file name ${JSON.stringify(name)}`);
    const dir = join(dirname(this.o.file), 'secrets');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, name), value, { mode: 0o600 });
    return `secrets/${name}`;
  }

  async removeSecret(relative: string): Promise<void> {
    if (this.o.file) await unlink(join(dirname(this.o.file), relative)).catch(() => {});
  }

  /** The site file as it is now (secrets stay as the file writes them: env/file references or hashes). */
  exportText(): string | null {
    return this.text;
  }

  /** Validate an uploaded file's text; on success, the diff against the config in force and what applying would restart. */
  async check(text: string, name = 'site.yaml'): Promise<Checked> {
    const parsed = await this.parse(text, name);
    if (!parsed.ok) return parsed;
    const diff = diffConfigs(this.config, parsed.config);
    const restarts = this.parts.filter((p) => p.affected(this.config, parsed.config)).map((p) => p.name);
    const restartRequired = diff.areas.filter((a) => !LIVE_AREAS.has(a));
    return { ok: true, config: parsed.config, diff, restarts, restartRequired };
  }

  /** Validate, write the file, restart affected parts; roll back the file and the parts when one fails to start. */
  apply(text: string, actor: string, name = 'site.yaml'): Promise<Applied> {
    const run = this.busy.then(() => this.applyNow(text, actor, name));
    this.busy = run.catch(() => {});
    return run;
  }

  /** Add one device entry to the site file (comments and layout kept) and apply it. */
  async addDevice(entry: Record<string, unknown>, actor: string): Promise<Applied> {
    const doc = parseDocument(this.text ?? 'devices: []\n');
    if (!doc.has('devices')) doc.set('devices', doc.createNode([]));
    doc.addIn(['devices'], doc.createNode(entry));
    return this.apply(doc.toString({ lineWidth: 0 }), actor);
  }

  private async applyNow(text: string, actor: string, name: string): Promise<Applied> {
    const checked = await this.check(text, name);
    if (!checked.ok) {
      await this.o.audit.record({
        actor,
        action: 'config.apply',
        target: name,
        outcome: `refused: ${checked.problems.length} problem(s)`,
        detail: { problems: checked.problems.slice(0, 20) },
      });
      return checked;
    }
    const { diff } = checked;
    const summary = summarize(diff);
    if (diff.changes.length === 0) return { ok: true, unchanged: true, diff, restarted: [], restartRequired: [], persisted: this.o.file !== null };
    const prev = this.config;
    const prevText = this.text;
    const affected = this.parts.filter((p) => p.affected(prev, checked.config));
    await this.writeFile(text);
    const done: Reconfigurable[] = [];
    for (const part of affected) {
      done.push(part);
      try {
        await part.apply(checked.config);
      } catch (err) {
        const error = (err as Error).message;
        this.o.log.error({ err, part: part.name }, 'a part failed to start with the new config: rolling back');
        if (prevText !== null) await this.writeFile(prevText).catch((e: Error) => this.o.log.error({ err: e }, 'could not restore the site file'));
        for (const p of done.reverse()) {
          await p.apply(prev).catch((e: Error) => this.o.log.fatal({ err: e, part: p.name }, 'rollback failed: this part is not running; restart the gateway'));
        }
        this.config = prev;
        this.text = prevText;
        const outcome = `failed, rolled back: ${part.name}: ${error}`.slice(0, 500);
        await this.o.provisioning.recordConfigChange({ actor, summary, outcome, before: prevText, after: text });
        await this.o.audit.record({ actor, action: 'config.apply', target: name, outcome, detail: { summary, areas: diff.areas } });
        return { ok: false, rolledBack: true, error, failedPart: part.name, diff };
      }
    }
    this.config = checked.config;
    this.text = text;
    await this.o.provisioning.recordConfigChange({ actor, summary, outcome: 'applied', before: prevText, after: text });
    await this.o.audit.record({
      actor,
      action: 'config.apply',
      target: name,
      outcome: 'ok',
      detail: { summary, areas: diff.areas, restarted: affected.map((p) => p.name), restartRequired: checked.restartRequired },
    });
    this.o.log.info({ actor, summary, restarted: affected.map((p) => p.name) }, 'site config changed from the panel');
    return {
      ok: true,
      unchanged: false,
      diff,
      restarted: affected.map((p) => p.name),
      restartRequired: checked.restartRequired,
      persisted: this.o.file !== null,
    };
  }

  private async parse(text: string, name: string): Promise<{ ok: true; config: SiteConfig } | { ok: false; problems: ConfigProblem[] }> {
    // Checked as a file beside the site file, so relative paths (secrets, TLS files) resolve as they will.
    const dir = this.o.file ? dirname(this.o.file) : this.o.scratchDir;
    const ext = /\.json$/i.test(name) ? '.json' : '.yaml';
    const tmp = join(dir, `.shouwang-upload-${randomBytes(6).toString('hex')}${ext}`);
    await writeFile(tmp, text, { mode: 0o600 });
    try {
      const r = await loadConfigFile(tmp);
      if (r.ok) return { ok: true, config: r.config };
      return { ok: false, problems: r.problems.map((p) => ({ ...p, path: p.path.replace(basename(tmp), name) })) };
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  /** Replace the site file atomically, keeping the previous one as <file>.<time>.bak (the last 10). */
  private async writeFile(text: string): Promise<void> {
    const file = this.o.file;
    if (!file) return;
    const stamp = new Date(this.o.clock.now())
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    await copyFile(file, `${file}.${stamp}.bak`).catch(() => {});
    const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, file);
    const backups = (await readdir(dirname(file))).filter((f) => f.startsWith(`${basename(file)}.`) && f.endsWith('.bak')).sort();
    for (const old of backups.slice(0, Math.max(0, backups.length - 10))) await unlink(join(dirname(file), old)).catch(() => {});
  }
}

function summarize(d: ConfigDiff): string {
  const parts: string[] = [];
  if (d.devices.added.length) parts.push(`added ${d.devices.added.join(', ')}`);
  if (d.devices.removed.length) parts.push(`removed ${d.devices.removed.join(', ')}`);
  if (d.devices.changed.length) parts.push(`changed ${d.devices.changed.join(', ')}`);
  const other = d.areas.filter((a) => a !== 'devices');
  if (other.length) parts.push(`areas ${other.join(', ')}`);
  return (parts.join('; ') || 'no change').slice(0, 500);
}

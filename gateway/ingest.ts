import type { Logger } from 'pino';
import type { DeviceConfig } from '../config/schema.ts';
import type { Clock } from './core/clock.ts';
import type { AppendResult, EmitOptions, EventSink, Reject } from './core/driver.ts';
import { BOX_DEVICE_ID, occurredAt, type DeviceEvent, type StoredEvent } from './core/events.ts';
import type { NewOutboxEntry } from './core/outbox.ts';
import type { Metrics } from './metrics.ts';
import type { AppendOptions } from './store/events.ts';
import type { Store } from './store/store.ts';

export interface IngestOptions {
  store: Store;
  devices: readonly DeviceConfig[];
  /** Event kinds forwarded to the county as `event` envelopes; null when there is no upstream. */
  forwardKinds: ReadonlySet<string> | null;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

const REJECT_LOG_INTERVAL_MS = 60_000;

/**
 * The ingest step: enrich a driver's event from the device registry, decide
 * whether it travels upstream, and append it (event and outbox entry in one
 * commit). The promise resolves after the commit: drivers ack their devices then.
 */
export class Ingest implements EventSink {
  private readonly devices: Map<string, DeviceConfig>;
  private lastRejectLog = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly o: IngestOptions) {
    this.devices = new Map(o.devices.map((d) => [d.id, d]));
  }

  emit(event: DeviceEvent, opts: EmitOptions = {}): Promise<AppendResult> {
    const device = this.devices.get(event.deviceId);
    const forwarded = this.o.forwardKinds !== null && (event.deviceId === BOX_DEVICE_ID || this.o.forwardKinds.has(event.kind));
    // The store bounds the raw excerpt (eventInsert); no copy of the event here, one per message at full rate.
    const append: AppendOptions = { grid: device?.grid ?? null };
    if (opts.dedupeKey !== undefined) append.dedupeKey = opts.dedupeKey;
    if (opts.resent) append.resent = true;
    if (forwarded) append.forward = (e: StoredEvent) => this.envelope(e, device);
    return this.o.store.events.append(event, append);
  }

  /** Keep the bad payload (bounded), count it, and log once per device per minute, not once per message. */
  reject(r: Reject): void {
    const key = r.deviceId ?? r.source;
    this.o.metrics.rejects.inc({ device: r.deviceId ?? 'unknown' });
    this.o.store.rejects.add(r).catch((err: Error) => this.o.log.error({ err, deviceId: r.deviceId }, 'could not record a rejected payload'));
    const now = this.o.clock.now();
    const last = this.lastRejectLog.get(key);
    if (last && now - last.at < REJECT_LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    this.lastRejectLog.set(key, { at: now, suppressed: 0 });
    this.o.log.warn(
      { deviceId: r.deviceId, source: r.source, reason: r.reason, suppressedSinceLast: last?.suppressed ?? 0 },
      'rejected a device payload (kept in the rejects table; further rejects from this device are logged at most once a minute)',
    );
  }

  private envelope(e: StoredEvent, device: DeviceConfig | undefined): NewOutboxEntry {
    return {
      id: e.id,
      lane: e.lane,
      type: 'event',
      occurredAt: occurredAt(e),
      body: {
        eventId: e.id,
        eventSeq: e.seq,
        kind: e.kind,
        active: e.active,
        deviceId: e.deviceId,
        gbId: device?.gbId ?? null,
        grid: e.grid,
        place: device?.place ?? null,
        source: e.source ?? null,
        deviceTime: e.deviceTime,
        receivedAt: e.receivedAt,
        clockTrusted: e.clockTrusted,
        attrs: e.attrs,
      },
    };
  }
}

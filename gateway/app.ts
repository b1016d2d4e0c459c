import type { Logger } from 'pino';
import type { SiteConfig } from '../config/schema.ts';
import { systemClock, type Clock } from './core/clock.ts';
import type { Component } from './core/component.ts';
import { Bus } from './core/bus.ts';
import { boxEvent, type StoredEvent } from './core/events.ts';
import { Ingest } from './ingest.ts';
import { Metrics } from './metrics.ts';
import { healthRoutes } from './panel/health.ts';
import { HttpServer } from './panel/server.ts';
import { Housekeeping } from './store/housekeeping.ts';
import { Store } from './store/store.ts';
import { Broker } from './broker/broker.ts';
import { Credentials } from './broker/credentials.ts';
import { MqttDriver } from '../device-drivers/mqtt/driver.ts';
import { Commands } from './commands.ts';
import { mqttAccounts } from './broker/accounts.ts';
import { loadOrCreateSalt } from './store/salt.ts';
import { Detection } from './detect/detection.ts';

export interface AppOptions {
  config: SiteConfig;
  dataDir: string;
  log: Logger;
  version: string;
  clock?: Clock;
  /** Override the panel port (tests use 0 for a free port). */
  httpPort?: number;
  /** Override the MQTT port (tests use 0). */
  brokerPort?: number;
}

export type GatewayTopics = {
  'event.stored': StoredEvent;
};

const MB = 1024 * 1024;
const DAY = 86_400_000;

/**
 * The composition root: the only place that knows every part. It opens the
 * store, builds the components, starts them in order and stops them in
 * reverse. No feature logic lives here.
 */
export class App {
  readonly bus: Bus<GatewayTopics>;
  readonly metrics = new Metrics();
  store!: Store;
  ingest!: Ingest;
  http!: HttpServer;
  broker!: Broker;
  mqtt!: MqttDriver;
  commands!: Commands;
  detect!: Detection;
  private credentialSalt!: Buffer;
  private components: Component[] = [];
  private started: Component[] = [];
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly o: AppOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.log;
    this.bus = new Bus<GatewayTopics>((topic, err) => this.log.error({ err, topic }, 'a bus listener failed'));
  }

  async start(): Promise<void> {
    const { config, dataDir } = this.o;
    const s = config.storage;
    const startedAt = this.clock.now();
    this.store = await Store.open({
      dir: dataDir,
      clock: this.clock,
      log: this.log.child({ part: 'store' }),
      groupCommit: s.groupCommit,
      budget: {
        maxDbBytes: s.budget.maxDbMb * MB,
        hardCapBytes: s.budget.hardCapMb * MB,
        minFreeBytes: s.budget.minFreeMb * MB,
        retention: {
          eventsMs: s.retention.eventsDays * DAY,
          alarmsMs: s.retention.alarmsDays * DAY,
          auditMs: s.retention.auditDays * DAY,
          rejectsMax: s.retention.rejectsMax,
          outboxMs: { alarm: s.retention.outbox.alarmsDays * DAY, record: s.retention.outbox.recordsDays * DAY, status: s.retention.outbox.statusDays * DAY },
        },
      },
      outbox: { maxAttempts: config.upstream.county?.maxAttempts ?? 10 },
      onStored: (e) => {
        this.metrics.onStored(e);
        this.bus.emit('event.stored', e);
      },
      onCommit: this.metrics.onCommit,
    });
    this.metrics.attach(this.store);
    const county = config.upstream.county;
    this.ingest = new Ingest({
      store: this.store,
      devices: config.devices,
      forwardKinds: county?.enabled ? new Set(config.upstream.forward.eventKinds) : null,
      clock: this.clock,
      log: this.log.child({ part: 'ingest' }),
      metrics: this.metrics,
    });
    // The run's first event, committed before any listener opens: /healthz never answers for a run the store has not recorded.
    await this.ingest.emit(boxEvent('box_started', { version: this.o.version, uncleanShutdown: this.store.uncleanShutdown }, this.clock.now()));
    this.credentialSalt = await loadOrCreateSalt(dataDir);
    const credentials = await Credentials.create(mqttAccounts(config));
    this.broker = new Broker({
      config: config.broker,
      credentials,
      clock: this.clock,
      log: this.log.child({ part: 'broker' }),
      reject: (r) => this.ingest.reject(r),
      ...(this.o.brokerPort !== undefined ? { port: this.o.brokerPort } : {}),
    });
    this.mqtt = new MqttDriver({
      sink: this.ingest,
      clock: this.clock,
      log: this.log.child({ part: 'mqtt' }),
      devices: config.devices,
      bridges: config.mqttBridges,
      transport: this.broker,
      credentialSalt: this.credentialSalt,
      offlineDebounceSeconds: config.rules.offlineDebounceSeconds,
    });
    this.commands = new Commands({
      store: this.store,
      driverFor: (id) => (this.mqtt.handles(id) ? this.mqtt : undefined),
      clock: this.clock,
      log: this.log.child({ part: 'commands' }),
    });
    this.detect = new Detection({
      config,
      store: this.store,
      commands: this.commands,
      clock: this.clock,
      log: this.log.child({ part: 'detect' }),
      reachable: (id) => (this.mqtt.handles(id) ? (this.mqtt.health().find((h) => h.deviceId === id)?.reachable ?? null) : null),
    });
    this.bus.on('event.stored', (e) => this.detect.handle(e));
    this.http = await HttpServer.create(
      { ...config.panel, ...(this.o.httpPort !== undefined ? { port: this.o.httpPort } : {}) },
      this.log.child({ part: 'http' }),
    );
    await this.http.app.register(healthRoutes, { boxId: config.site.boxId, version: this.o.version, startedAt, store: this.store, metrics: this.metrics });

    // Drivers before the broker, so no device message arrives before its handler; the broker before HTTP.
    // Detection before the drivers: it rebuilds from the store before the first live event.
    this.components = [new Housekeeping(this.store, this.clock, this.log.child({ part: 'housekeeping' })), this.detect, this.mqtt, this.broker, this.http];
    for (const c of this.components) {
      await c.start();
      this.started.push(c);
    }
    if (this.store.uncleanShutdown) this.log.warn('the previous run did not shut down cleanly (power cut or kill); committed events were kept');
    this.log.info({ boxId: config.site.boxId, dataDir, lastSeq: this.store.events.lastSeq() }, 'gateway started');
  }

  /** Stop components in reverse order, then commit what is pending and close the database. */
  async stop(): Promise<void> {
    for (const c of this.started.reverse()) {
      try {
        await c.stop();
      } catch (err) {
        this.log.error({ err, component: c.name }, 'component failed to stop cleanly');
      }
    }
    this.started = [];
    if (this.store) await this.store.close();
    this.log.info('gateway stopped: pending writes committed, database closed');
  }
}

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
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_CONFIG_FILE } from '../config/load.ts';
import { registerPanel, type PanelHandle } from './panel/plugin.ts';
import { PanelData } from './store/panel-data.ts';
import { ConfigManager } from './provision/config-manager.ts';
import { installerApi } from './provision/installer-api.ts';

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
  /** The site file `config` came from: the installer's config export/import and device adds read and write it. */
  configFile?: string;
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
  /** The web panel (issue 7): its live feed, sessions and route table. */
  panel!: PanelHandle;
  /** The site file as the installer changes it from the panel. */
  configManager!: ConfigManager;
  /** While no panel account exists: the one-time link that creates the first one (also logged at start). */
  setupLink: { url: string; expiresAt: number } | null = null;
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
    this.http = await HttpServer.create(
      { ...config.panel, ...(this.o.httpPort !== undefined ? { port: this.o.httpPort } : {}) },
      this.log.child({ part: 'http' }),
    );
    await this.http.app.register(healthRoutes, { boxId: config.site.boxId, version: this.o.version, startedAt, store: this.store, metrics: this.metrics });
    await this.startPanel(config, dataDir);

    // Drivers before the broker, so no device message arrives before its handler; the broker before HTTP.
    this.components = [new Housekeeping(this.store, this.clock, this.log.child({ part: 'housekeeping' })), this.mqtt, this.broker, this.http];
    for (const c of this.components) {
      await c.start();
      this.started.push(c);
    }
    this.setupLink = await this.panel.setupLink(this.http.url);
    if (this.setupLink)
      this.log.warn(
        { setupLink: this.setupLink.url, expires: new Date(this.setupLink.expiresAt).toISOString() },
        'no panel account yet: open this one-time setup link to create the first (manager) account; it expires, and a restart makes a new one',
      );
    if (this.store.uncleanShutdown) this.log.warn('the previous run did not shut down cleanly (power cut or kill); committed events were kept');
    this.log.info({ boxId: config.site.boxId, dataDir, lastSeq: this.store.events.lastSeq() }, 'gateway started');
  }

  /** The panel and installer plugins on the HTTP server, and the config manager behind the installer's config pages (issue 7). */
  private async startPanel(config: SiteConfig, dataDir: string): Promise<void> {
    // The demo's site file is the repo's: the panel edits a copy in the data folder (changes last until the demo restarts).
    const file = this.o.configFile ?? (config.demo ? join(dataDir, 'site.yaml') : null);
    if (!this.o.configFile && config.demo && file) await copyFile(DEMO_CONFIG_FILE, file);
    const data = await PanelData.open(this.store, this.clock);
    this.configManager = new ConfigManager({
      file,
      config,
      scratchDir: dataDir,
      provisioning: data.provisioning,
      audit: this.store.audit,
      clock: this.clock,
      log: this.log.child({ part: 'config' }),
    });
    await this.configManager.init();
    this.configManager.register({
      name: 'mqtt',
      affected: (a, b) =>
        ['devices', 'mqttBridges', 'broker', 'rules', 'upstream', 'grids'].some(
          (k) => JSON.stringify(a[k as keyof SiteConfig]) !== JSON.stringify(b[k as keyof SiteConfig]),
        ),
      apply: (next) => this.reconfigureMqtt(next),
    });
    this.panel = await registerPanel(
      this.http.app,
      {
        store: this.store,
        data,
        clock: this.clock,
        log: this.log.child({ part: 'panel' }),
        bus: this.bus,
        version: this.o.version,
        config: () => this.configManager.current(),
        health: () => this.mqtt.health(),
        deviceState: (id) => this.mqtt.stateOf(id),
        commands: this.commands,
        tls: Boolean(config.panel.tls),
      },
      { plugin: installerApi({ configManager: this.configManager, mqttPort: () => this.broker.addresses }) },
    );
  }

  /** Rebuild the MQTT side (device registry, credentials, broker, driver) for a new site config: the installer's config apply. */
  async reconfigureMqtt(config: SiteConfig): Promise<void> {
    const oldBroker = this.broker;
    const oldMqtt = this.mqtt;
    const port = this.o.brokerPort !== undefined ? (oldBroker.addresses.find((a) => !a.tls)?.port ?? this.o.brokerPort) : undefined;
    await oldBroker.stop();
    await oldMqtt.stop();
    const county = config.upstream.county;
    this.ingest = new Ingest({
      store: this.store,
      devices: config.devices,
      forwardKinds: county?.enabled ? new Set(config.upstream.forward.eventKinds) : null,
      clock: this.clock,
      log: this.log.child({ part: 'ingest' }),
      metrics: this.metrics,
    });
    this.broker = new Broker({
      config: config.broker,
      credentials: await Credentials.create(mqttAccounts(config)),
      clock: this.clock,
      log: this.log.child({ part: 'broker' }),
      reject: (r) => this.ingest.reject(r),
      ...(port !== undefined ? { port } : {}),
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
    const swap = (from: Component, to: Component) => {
      for (const list of [this.components, this.started]) {
        const i = list.indexOf(from);
        if (i >= 0) list[i] = to;
      }
    };
    swap(oldMqtt, this.mqtt);
    swap(oldBroker, this.broker);
    await this.mqtt.start();
    try {
      await this.broker.start();
    } catch (err) {
      // Free whatever did start (a plain listener before a failing TLS one), so the rollback can bind again.
      await this.broker.stop().catch(() => {});
      await this.mqtt.stop().catch(() => {});
      throw err;
    }
    this.log.info({ devices: config.devices.length }, 'MQTT side restarted with the new site config');
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

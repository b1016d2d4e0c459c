import type { Logger } from 'pino';
import type { SiteConfig } from '../config/schema.ts';
import { systemClock, type Clock } from './core/clock.ts';
import type { Component } from './core/component.ts';
import { Bus } from './core/bus.ts';
import { boxEvent, type EventKind, type StoredEvent } from './core/events.ts';
import { Ingest } from './ingest.ts';
import { Metrics } from './metrics.ts';
import { healthRoutes } from './panel/health.ts';
import { HttpServer } from './panel/server.ts';
import { Housekeeping } from './store/housekeeping.ts';
import { Store } from './store/store.ts';
import { Broker } from './broker/broker.ts';
import { Credentials } from './broker/credentials.ts';
import { MqttDriver } from '../device-drivers/mqtt/driver.ts';
import type { DeviceHealth } from './core/driver.ts';
import { Commands } from './commands.ts';
import { mqttAccounts } from './broker/accounts.ts';
import { loadOrCreateSalt } from './store/salt.ts';
import { copyFile } from 'node:fs/promises';
import { DEMO_CONFIG_FILE } from '../config/load.ts';
import { registerPanel, type PanelHandle } from './panel/plugin.ts';
import { PanelData } from './store/panel-data.ts';
import { ConfigManager } from './provision/config-manager.ts';
import { installerApi } from './provision/installer-api.ts';
import { join } from 'node:path';
import { OnvifDriver } from '../device-drivers/onvif/driver.ts';
import type { OnvifTuning } from '../device-drivers/onvif/tuning.ts';
import { SnapshotStore } from './store/snapshots.ts';
import { createCountyPush, type CountyPush } from '../cloud-bridge/push/index.ts';
import { DeviceStatusReporter } from './device-status.ts';
import { DEVICE_STATUS_SECONDS } from '../config/schema/upstream.ts';
import type { DeviceInfo, FeedAlarm } from './core/county.ts';
import { CountyStores } from './store/county.ts';
import { countyPullApi, PREFIX as COUNTY_API_PREFIX, type Inventory } from '../cloud-bridge/pull-api/plugin.ts';
import { COUNTY_API_DEFAULTS } from '../config/schema/county-api.ts';
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
  /** The site file `config` came from: the installer's config export/import and device adds read and write it. */
  configFile?: string;
  /** ONVIF event client timings (tests shorten them). */
  onvif?: Partial<OnvifTuning>;
}

export type GatewayTopics = {
  'event.stored': StoredEvent;
  /** An alarm was opened or changed (committed). */
  'alarm.changed': FeedAlarm;
};

const MB = 1024 * 1024;
const DAY = 86_400_000;
/** Snapshot files beside the database: at most this much, this old (pictures linked to alarms are removed last). */
const SNAPSHOT_BUDGET = { maxBytes: 512 * MB, maxAgeMs: 30 * DAY };

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
  onvif!: OnvifDriver;
  snapshots!: SnapshotStore;
  county: CountyStores | null = null;
  push: CountyPush | null = null;
  deviceStatus!: DeviceStatusReporter;
  detect!: Detection;
  private panelData: PanelData | null = null;
  /** What the county's pull API shows of the site, made again only when an applied config replaces the current one. */
  private inventory: { config: SiteConfig; view: Inventory } | null = null;
  private stopping: Promise<void> | null = null;
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
    const startedAtMono = this.clock.monotonic();
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
    this.ingest = this.makeIngest(config);
    // The run's first event, committed before any listener opens: /healthz never answers for a run the store has not recorded.
    await this.ingest.emit(boxEvent('box_started', { version: this.o.version, uncleanShutdown: this.store.uncleanShutdown }, this.clock.now()));
    this.credentialSalt = await loadOrCreateSalt(dataDir);
    this.snapshots = await SnapshotStore.open({
      writer: this.store.writer,
      dbFile: this.store.file,
      dir: join(dataDir, 'snapshots'),
      clock: this.clock,
      log: this.log.child({ part: 'snapshots' }),
      budget: SNAPSHOT_BUDGET,
    });
    this.commands = new Commands({
      store: this.store,
      driverFor: (id) => (this.mqtt.handles(id) ? this.mqtt : this.onvif.handles(id) ? this.onvif : undefined),
      clock: this.clock,
      log: this.log.child({ part: 'commands' }),
    });
    await this.buildDeviceSide(config, this.o.brokerPort);
    this.bus.on('event.stored', (e) => this.detect.handle(e));
    this.http = await HttpServer.create(
      { ...config.panel, ...(this.o.httpPort !== undefined ? { port: this.o.httpPort } : {}) },
      this.log.child({ part: 'http' }),
    );
    await this.http.app.register(healthRoutes, { boxId: config.site.boxId, version: this.o.version, startedAt, store: this.store, metrics: this.metrics });
    await this.startPanel(config, dataDir);

    // County bridge: push (HTTP or MQTT) with heartbeats; woken by every commit that may have enqueued.
    this.county = await CountyStores.open(this.store, this.clock);
    this.store.alarms.onChange((a) => this.bus.emit('alarm.changed', a));
    const bridge: Component[] = [];
    if (county?.enabled) {
      const push = await createCountyPush({
        boxId: config.site.boxId,
        version: this.o.version,
        config: county,
        outbox: this.store.outbox,
        heartbeat: this.county.push,
        clock: this.clock,
        log: this.log.child({ part: 'county-push' }),
        startedAtMono,
      });
      this.push = push;
      this.bus.on('event.stored', () => push.pusher.wake());
      this.bus.on('alarm.changed', () => push.pusher.wake());
      bridge.push(...push.components);
    }
    // Device status on every box: the transitions both uptime figures are computed from; told to the county when there is one.
    this.deviceStatus = new DeviceStatusReporter({
      port: this.county.push,
      health: { health: () => this.deviceHealth() },
      devices: () => this.countyInventory(this.configManager.current()).devices,
      clock: this.clock,
      log: this.log.child({ part: 'device-status' }),
      everyMs: (county?.enabled ? county.deviceStatusSeconds : DEVICE_STATUS_SECONDS) * 1000,
      tellCounty: county?.enabled === true,
      onEnqueued: () => this.push?.pusher.wake(),
    });
    bridge.push(this.deviceStatus);

    // County pull API on the panel's HTTP server; tokens are checked with the broker's async, constant-time scrypt verifier.
    if (config.countyApi.enabled) {
      const tokens = config.countyApi.tokens;
      const tokenCheck = await Credentials.create(
        tokens.map((t) => ({
          principal: { kind: 'bridge' as const, id: t.name }, // a named credential; the kind is not used for tokens
          ...(t.token.hash ? { hash: t.token.hash } : { password: t.token.reveal() }),
          enabled: true,
        })),
      );
      await this.http.app.register(countyPullApi, {
        prefix: COUNTY_API_PREFIX,
        county: this.county.port(),
        changes: { onAlarmChanged: (fn) => this.bus.on('alarm.changed', fn), onEventStored: (fn) => this.bus.on('event.stored', fn) },
        snapshots: {
          // Only a snapshot that is evidence of that alarm: an id alone opens nothing.
          read: async (alarmId, snapshotId) => {
            if (!(await this.store.alarms.get(alarmId))?.snapshots.includes(snapshotId)) return null;
            const s = await this.snapshots.read(snapshotId);
            return s ? { contentType: s.contentType, data: s.bytes } : null;
          },
        },
        tokens: { names: tokens.map((t) => t.name), verify: async (name, secret) => (await tokenCheck.verify(name, Buffer.from(secret))).ok },
        consumers: tokens.map((t) => ({ name: t.name, scopes: t.scopes })),
        inventory: () => this.countyInventory(this.configManager.current()),
        health: { health: () => this.deviceHealth() },
        villages: () => this.panelData!.provisioning.villages(),
        eventKinds: config.upstream.forward.eventKinds as EventKind[],
        requestsPerMinute: config.countyApi.requestsPerMinute ?? COUNTY_API_DEFAULTS.requestsPerMinute,
        maxWaitSeconds: config.countyApi.maxWaitSeconds ?? COUNTY_API_DEFAULTS.maxWaitSeconds,
        version: this.o.version,
        log: this.log.child({ part: 'county-api' }),
      });
    }

    // Drivers before the broker, so no device message arrives before its handler; the broker before HTTP.
    // Detection before the drivers: it rebuilds from the store before the first live event.
    this.components = [
      new Housekeeping(this.store, this.clock, this.log.child({ part: 'housekeeping' })),
      this.snapshots,
      this.detect,
      this.mqtt,
      this.onvif,
      this.broker,
      this.http,
      ...bridge,
    ];
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
    const data = (this.panelData = await PanelData.open(this.store, this.clock));
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
      name: 'devices',
      affected: (a, b) =>
        ['devices', 'mqttBridges', 'broker', 'rules', 'grids'].some(
          (k) => JSON.stringify(a[k as keyof SiteConfig]) !== JSON.stringify(b[k as keyof SiteConfig]),
        ),
      apply: (next) => this.reconfigureDevices(next),
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
        health: () => this.deviceHealth(),
        deviceState: (id) => this.mqtt.stateOf(id),
        commands: this.commands,
        alarmChanges: (fn) => this.bus.on('alarm.changed', fn),
        maintenance: {
          set: (id, on, actor, reason, minutes) => this.detect.setMaintenance(id, on, actor, reason, minutes),
          list: () => this.detect.listMaintenance(),
        },
        snapshots: {
          get: async (id) => {
            const snap = await this.snapshots.read(id);
            return snap ? { mime: snap.contentType, data: snap.bytes } : null;
          },
          // A live picture is a snapshot command like any other: run for the person asking, recorded and audited.
          current: async (deviceId, actor) => {
            const cmd = await this.commands.run({ deviceId, action: 'snapshot', requestedBy: actor, reason: '面板查看画面 (panel view)', ttlMs: 10_000 });
            if (cmd.status !== 'succeeded') return null;
            const [rec] = await this.snapshots.forCommand(cmd.id);
            const snap = rec ? await this.snapshots.read(rec.id) : null;
            return snap ? { mime: snap.contentType, data: snap.bytes } : null;
          },
        },
        upstream: () => this.push?.pusher.stats() ?? null,
        tls: Boolean(config.panel.tls),
      },
      { plugin: installerApi({ configManager: this.configManager, mqttPort: () => this.broker.addresses }) },
    );
  }

  private makeIngest(config: SiteConfig): Ingest {
    return new Ingest({
      store: this.store,
      devices: config.devices,
      forwardKinds: config.upstream.county?.enabled ? new Set(config.upstream.forward.eventKinds) : null,
      clock: this.clock,
      log: this.log.child({ part: 'ingest' }),
      metrics: this.metrics,
    });
  }

  /** The parts that depend on the site's devices: broker and its accounts, both drivers, the rules. Built at start and by a config apply. */
  private async buildDeviceSide(config: SiteConfig, brokerPort: number | undefined): Promise<void> {
    this.broker = new Broker({
      config: config.broker,
      credentials: await Credentials.create(mqttAccounts(config)),
      clock: this.clock,
      log: this.log.child({ part: 'broker' }),
      reject: (r) => this.ingest.reject(r),
      ...(brokerPort !== undefined ? { port: brokerPort } : {}),
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
    this.onvif = new OnvifDriver({
      sink: this.ingest,
      clock: this.clock,
      log: this.log.child({ part: 'onvif' }),
      devices: config.devices,
      offlineDebounceSeconds: config.rules.offlineDebounceSeconds,
      snapshots: this.snapshots,
      subscriptions: this.store.cameraSubscriptions,
      ...(this.o.onvif ? { tuning: this.o.onvif } : {}),
    });
    this.detect = new Detection({
      config,
      store: this.store,
      commands: this.commands,
      clock: this.clock,
      log: this.log.child({ part: 'detect' }),
      reachable: (id) => this.deviceHealth().find((h) => h.deviceId === id)?.reachable ?? null,
    });
  }

  /**
   * Rebuild the device side for a new site config (the installer's config apply): the device registry, MQTT
   * credentials, broker and driver, the ONVIF driver and the detection rules. Devices reconnect to the new broker.
   */
  async reconfigureDevices(config: SiteConfig): Promise<void> {
    const old = { broker: this.broker, mqtt: this.mqtt, onvif: this.onvif, detect: this.detect };
    const port = this.o.brokerPort !== undefined ? (old.broker.addresses.find((a) => !a.tls)?.port ?? this.o.brokerPort) : undefined;
    for (const c of [old.broker, old.mqtt, old.onvif, old.detect]) await c.stop();
    this.ingest = this.makeIngest(config);
    await this.buildDeviceSide(config, port);
    const swap = (from: Component, to: Component) => {
      for (const list of [this.components, this.started]) {
        const i = list.indexOf(from);
        if (i >= 0) list[i] = to;
      }
    };
    swap(old.broker, this.broker);
    swap(old.mqtt, this.mqtt);
    swap(old.onvif, this.onvif);
    swap(old.detect, this.detect);
    const started: Component[] = [];
    try {
      for (const c of [this.detect, this.mqtt, this.onvif, this.broker]) {
        await c.start();
        started.push(c);
      }
    } catch (err) {
      // Free whatever did start (a plain listener before a failing TLS one), so the rollback can bind again.
      await this.broker.stop().catch(() => {});
      for (const c of started.reverse()) await c.stop().catch(() => {});
      throw err;
    }
    this.log.info({ devices: config.devices.length }, 'device side restarted with the new site config');
  }

  /** Health of every device, from the driver that speaks to it. */
  deviceHealth(): DeviceHealth[] {
    return [...this.mqtt.health(), ...this.onvif.health()];
  }

  private countyInventory(config: SiteConfig): Inventory {
    if (this.inventory?.config !== config) this.inventory = { config, view: { site: config.site, grids: config.grids, devices: deviceInfos(config) } };
    return this.inventory.view;
  }

  /** Stop components in reverse order, then close the store; a second call waits for the first. */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    for (const c of this.started.reverse()) {
      try {
        await c.stop();
      } catch (err) {
        this.log.error({ err, component: c.name }, 'component failed to stop cleanly');
      }
    }
    this.started = [];
    await this.county?.close().catch((err: Error) => this.log.error({ err }, 'county read connection failed to close'));
    if (this.store) await this.store.close();
    this.log.info('gateway stopped: pending writes committed, database closed');
  }
}

/** The site's devices as the county sees them. */
function deviceInfos(config: SiteConfig): DeviceInfo[] {
  return config.devices.map((d) => ({
    id: d.id,
    name: d.name,
    kind: d.kind,
    grid: d.grid,
    place: d.place,
    gbId: d.gbId ?? null,
    enabled: d.enabled,
    eventsEnabled: d.kind === 'onvif_camera' ? d.eventsEnabled : null,
  }));
}
